master/CMakeFiles/hn_master.dir/dygraph_css.c.o: \
 /work/main/build-dev/master/dygraph_css.c /usr/include/stdc-predef.h
