# cmake -DIN=FILE -DOUT=FILE.c -DNAME=symbol -P embed.cmake: FILE's bytes as a C array
# (const char NAME[], NUL-terminated) so the binary carries it and needs nothing installed.
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}" "/* generated from ${IN} by cmd/embed.cmake */\nconst char ${NAME}[] = {${bytes}0x00};\n")
