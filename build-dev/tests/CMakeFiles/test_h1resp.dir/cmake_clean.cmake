file(REMOVE_RECURSE
  "CMakeFiles/test_h1resp.dir/unit/test_h1resp.c.o"
  "CMakeFiles/test_h1resp.dir/unit/test_h1resp.c.o.d"
  "test_h1resp"
  "test_h1resp.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_h1resp.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
