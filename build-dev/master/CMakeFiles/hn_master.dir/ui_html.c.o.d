master/CMakeFiles/hn_master.dir/ui_html.c.o: \
 /work/main/build-dev/master/ui_html.c /usr/include/stdc-predef.h
