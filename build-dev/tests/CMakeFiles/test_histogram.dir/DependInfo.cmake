
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/tests/unit/test_histogram.c" "tests/CMakeFiles/test_histogram.dir/unit/test_histogram.c.o" "gcc" "tests/CMakeFiles/test_histogram.dir/unit/test_histogram.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build-dev/master/CMakeFiles/hn_master.dir/DependInfo.cmake"
  "/work/main/build-dev/worker/CMakeFiles/hn_worker.dir/DependInfo.cmake"
  "/work/main/build-dev/proto/CMakeFiles/hn_proto.dir/DependInfo.cmake"
  "/work/main/build-dev/common/CMakeFiles/hn_common.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
