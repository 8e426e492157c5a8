file(REMOVE_RECURSE
  "CMakeFiles/hn_common.dir/histogram.c.o"
  "CMakeFiles/hn_common.dir/histogram.c.o.d"
  "CMakeFiles/hn_common.dir/json.c.o"
  "CMakeFiles/hn_common.dir/json.c.o.d"
  "CMakeFiles/hn_common.dir/log.c.o"
  "CMakeFiles/hn_common.dir/log.c.o.d"
  "CMakeFiles/hn_common.dir/options.c.o"
  "CMakeFiles/hn_common.dir/options.c.o.d"
  "CMakeFiles/hn_common.dir/scenario.c.o"
  "CMakeFiles/hn_common.dir/scenario.c.o.d"
  "CMakeFiles/hn_common.dir/scenario_load.c.o"
  "CMakeFiles/hn_common.dir/scenario_load.c.o.d"
  "CMakeFiles/hn_common.dir/sha256.c.o"
  "CMakeFiles/hn_common.dir/sha256.c.o.d"
  "CMakeFiles/hn_common.dir/stages.c.o"
  "CMakeFiles/hn_common.dir/stages.c.o.d"
  "CMakeFiles/hn_common.dir/stats.c.o"
  "CMakeFiles/hn_common.dir/stats.c.o.d"
  "CMakeFiles/hn_common.dir/template.c.o"
  "CMakeFiles/hn_common.dir/template.c.o.d"
  "CMakeFiles/hn_common.dir/threshold.c.o"
  "CMakeFiles/hn_common.dir/threshold.c.o.d"
  "CMakeFiles/hn_common.dir/util.c.o"
  "CMakeFiles/hn_common.dir/util.c.o.d"
  "libhn_common.a"
  "libhn_common.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/hn_common.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
