file(REMOVE_RECURSE
  "CMakeFiles/test_capacity.dir/unit/test_capacity.c.o"
  "CMakeFiles/test_capacity.dir/unit/test_capacity.c.o.d"
  "test_capacity"
  "test_capacity.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_capacity.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
