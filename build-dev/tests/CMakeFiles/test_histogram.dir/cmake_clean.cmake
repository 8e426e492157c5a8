file(REMOVE_RECURSE
  "CMakeFiles/test_histogram.dir/unit/test_histogram.c.o"
  "CMakeFiles/test_histogram.dir/unit/test_histogram.c.o.d"
  "test_histogram"
  "test_histogram.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_histogram.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
