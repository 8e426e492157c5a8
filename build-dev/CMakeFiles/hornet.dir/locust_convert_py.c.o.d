CMakeFiles/hornet.dir/locust_convert_py.c.o: \
 /work/main/build-dev/locust_convert_py.c /usr/include/stdc-predef.h
