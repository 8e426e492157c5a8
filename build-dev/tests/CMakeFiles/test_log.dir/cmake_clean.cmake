file(REMOVE_RECURSE
  "CMakeFiles/test_log.dir/unit/test_log.c.o"
  "CMakeFiles/test_log.dir/unit/test_log.c.o.d"
  "test_log"
  "test_log.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_log.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
