
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/common/histogram.c" "common/CMakeFiles/hn_common.dir/histogram.c.o" "gcc" "common/CMakeFiles/hn_common.dir/histogram.c.o.d"
  "/work/main/common/json.c" "common/CMakeFiles/hn_common.dir/json.c.o" "gcc" "common/CMakeFiles/hn_common.dir/json.c.o.d"
  "/work/main/common/log.c" "common/CMakeFiles/hn_common.dir/log.c.o" "gcc" "common/CMakeFiles/hn_common.dir/log.c.o.d"
  "/work/main/common/options.c" "common/CMakeFiles/hn_common.dir/options.c.o" "gcc" "common/CMakeFiles/hn_common.dir/options.c.o.d"
  "/work/main/common/scenario.c" "common/CMakeFiles/hn_common.dir/scenario.c.o" "gcc" "common/CMakeFiles/hn_common.dir/scenario.c.o.d"
  "/work/main/common/scenario_load.c" "common/CMakeFiles/hn_common.dir/scenario_load.c.o" "gcc" "common/CMakeFiles/hn_common.dir/scenario_load.c.o.d"
  "/work/main/common/sha256.c" "common/CMakeFiles/hn_common.dir/sha256.c.o" "gcc" "common/CMakeFiles/hn_common.dir/sha256.c.o.d"
  "/work/main/common/stages.c" "common/CMakeFiles/hn_common.dir/stages.c.o" "gcc" "common/CMakeFiles/hn_common.dir/stages.c.o.d"
  "/work/main/common/stats.c" "common/CMakeFiles/hn_common.dir/stats.c.o" "gcc" "common/CMakeFiles/hn_common.dir/stats.c.o.d"
  "/work/main/common/template.c" "common/CMakeFiles/hn_common.dir/template.c.o" "gcc" "common/CMakeFiles/hn_common.dir/template.c.o.d"
  "/work/main/common/threshold.c" "common/CMakeFiles/hn_common.dir/threshold.c.o" "gcc" "common/CMakeFiles/hn_common.dir/threshold.c.o.d"
  "/work/main/common/util.c" "common/CMakeFiles/hn_common.dir/util.c.o" "gcc" "common/CMakeFiles/hn_common.dir/util.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
