file(REMOVE_RECURSE
  "CMakeFiles/hornet-demo-target.dir/demo_target.c.o"
  "CMakeFiles/hornet-demo-target.dir/demo_target.c.o.d"
  "hornet-demo-target"
  "hornet-demo-target.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/hornet-demo-target.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
