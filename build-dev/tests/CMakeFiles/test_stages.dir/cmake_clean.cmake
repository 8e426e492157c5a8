file(REMOVE_RECURSE
  "CMakeFiles/test_stages.dir/unit/test_stages.c.o"
  "CMakeFiles/test_stages.dir/unit/test_stages.c.o.d"
  "test_stages"
  "test_stages.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_stages.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
