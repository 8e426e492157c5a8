file(REMOVE_RECURSE
  "CMakeFiles/test_wired.dir/unit/test_wired.c.o"
  "CMakeFiles/test_wired.dir/unit/test_wired.c.o.d"
  "test_wired"
  "test_wired.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_wired.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
