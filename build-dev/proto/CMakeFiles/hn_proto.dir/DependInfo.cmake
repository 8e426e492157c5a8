
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/proto/codec.c" "proto/CMakeFiles/hn_proto.dir/codec.c.o" "gcc" "proto/CMakeFiles/hn_proto.dir/codec.c.o.d"
  "/work/main/proto/keys.c" "proto/CMakeFiles/hn_proto.dir/keys.c.o" "gcc" "proto/CMakeFiles/hn_proto.dir/keys.c.o.d"
  "/work/main/proto/rpc.c" "proto/CMakeFiles/hn_proto.dir/rpc.c.o" "gcc" "proto/CMakeFiles/hn_proto.dir/rpc.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build-dev/common/CMakeFiles/hn_common.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
