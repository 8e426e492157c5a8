master/CMakeFiles/hn_master.dir/dygraph_js.c.o: \
 /work/main/build-dev/master/dygraph_js.c /usr/include/stdc-predef.h
