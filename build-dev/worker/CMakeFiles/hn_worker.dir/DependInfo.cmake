
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/worker/check.c" "worker/CMakeFiles/hn_worker.dir/check.c.o" "gcc" "worker/CMakeFiles/hn_worker.dir/check.c.o.d"
  "/work/main/worker/cookie.c" "worker/CMakeFiles/hn_worker.dir/cookie.c.o" "gcc" "worker/CMakeFiles/hn_worker.dir/cookie.c.o.d"
  "/work/main/worker/h1resp.c" "worker/CMakeFiles/hn_worker.dir/h1resp.c.o" "gcc" "worker/CMakeFiles/hn_worker.dir/h1resp.c.o.d"
  "/work/main/worker/http.c" "worker/CMakeFiles/hn_worker.dir/http.c.o" "gcc" "worker/CMakeFiles/hn_worker.dir/http.c.o.d"
  "/work/main/worker/http_curl.c" "worker/CMakeFiles/hn_worker.dir/http_curl.c.o" "gcc" "worker/CMakeFiles/hn_worker.dir/http_curl.c.o.d"
  "/work/main/worker/http_native.c" "worker/CMakeFiles/hn_worker.dir/http_native.c.o" "gcc" "worker/CMakeFiles/hn_worker.dir/http_native.c.o.d"
  "/work/main/worker/runner.c" "worker/CMakeFiles/hn_worker.dir/runner.c.o" "gcc" "worker/CMakeFiles/hn_worker.dir/runner.c.o.d"
  "/work/main/worker/sysinfo.c" "worker/CMakeFiles/hn_worker.dir/sysinfo.c.o" "gcc" "worker/CMakeFiles/hn_worker.dir/sysinfo.c.o.d"
  "/work/main/worker/user.c" "worker/CMakeFiles/hn_worker.dir/user.c.o" "gcc" "worker/CMakeFiles/hn_worker.dir/user.c.o.d"
  "/work/main/worker/worker.c" "worker/CMakeFiles/hn_worker.dir/worker.c.o" "gcc" "worker/CMakeFiles/hn_worker.dir/worker.c.o.d"
  "/work/main/worker/ws.c" "worker/CMakeFiles/hn_worker.dir/ws.c.o" "gcc" "worker/CMakeFiles/hn_worker.dir/ws.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build-dev/proto/CMakeFiles/hn_proto.dir/DependInfo.cmake"
  "/work/main/build-dev/common/CMakeFiles/hn_common.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
