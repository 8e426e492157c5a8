file(REMOVE_RECURSE
  "CMakeFiles/test_cookie.dir/unit/test_cookie.c.o"
  "CMakeFiles/test_cookie.dir/unit/test_cookie.c.o.d"
  "test_cookie"
  "test_cookie.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/test_cookie.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
