file(REMOVE_RECURSE
  "CMakeFiles/test_threshold.dir/unit/test_threshold.c.o"
  "CMakeFiles/test_threshold.dir/unit/test_threshold.c.o.d"
  "test_threshold"
  "test_threshold.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_threshold.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
