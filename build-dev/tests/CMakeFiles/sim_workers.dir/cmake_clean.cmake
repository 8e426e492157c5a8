file(REMOVE_RECURSE
  "CMakeFiles/sim_workers.dir/tools/sim_workers.c.o"
  "CMakeFiles/sim_workers.dir/tools/sim_workers.c.o.d"
  "sim_workers"
  "sim_workers.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/sim_workers.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
