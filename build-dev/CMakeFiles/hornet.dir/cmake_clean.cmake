file(REMOVE_RECURSE
  "CMakeFiles/hornet.dir/cmd/convert.c.o"
  "CMakeFiles/hornet.dir/cmd/convert.c.o.d"
  "CMakeFiles/hornet.dir/cmd/hornet.c.o"
  "CMakeFiles/hornet.dir/cmd/hornet.c.o.d"
  "CMakeFiles/hornet.dir/locust_convert_py.c.o"
  "CMakeFiles/hornet.dir/locust_convert_py.c.o.d"
  "hornet"
  "hornet.pdb"
  "locust_convert_py.c"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/hornet.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
