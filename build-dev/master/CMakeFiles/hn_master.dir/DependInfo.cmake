
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/master/capacity.c" "master/CMakeFiles/hn_master.dir/capacity.c.o" "gcc" "master/CMakeFiles/hn_master.dir/capacity.c.o.d"
  "/work/main/master/children.c" "master/CMakeFiles/hn_master.dir/children.c.o" "gcc" "master/CMakeFiles/hn_master.dir/children.c.o.d"
  "/work/main/master/cluster.c" "master/CMakeFiles/hn_master.dir/cluster.c.o" "gcc" "master/CMakeFiles/hn_master.dir/cluster.c.o.d"
  "/work/main/master/compare.c" "master/CMakeFiles/hn_master.dir/compare.c.o" "gcc" "master/CMakeFiles/hn_master.dir/compare.c.o.d"
  "/work/main/master/console.c" "master/CMakeFiles/hn_master.dir/console.c.o" "gcc" "master/CMakeFiles/hn_master.dir/console.c.o.d"
  "/work/main/master/describe.c" "master/CMakeFiles/hn_master.dir/describe.c.o" "gcc" "master/CMakeFiles/hn_master.dir/describe.c.o.d"
  "/work/main/master/dispatch.c" "master/CMakeFiles/hn_master.dir/dispatch.c.o" "gcc" "master/CMakeFiles/hn_master.dir/dispatch.c.o.d"
  "/work/main/build-dev/master/dygraph_css.c" "master/CMakeFiles/hn_master.dir/dygraph_css.c.o" "gcc" "master/CMakeFiles/hn_master.dir/dygraph_css.c.o.d"
  "/work/main/build-dev/master/dygraph_js.c" "master/CMakeFiles/hn_master.dir/dygraph_js.c.o" "gcc" "master/CMakeFiles/hn_master.dir/dygraph_js.c.o.d"
  "/work/main/master/history_cmd.c" "master/CMakeFiles/hn_master.dir/history_cmd.c.o" "gcc" "master/CMakeFiles/hn_master.dir/history_cmd.c.o.d"
  "/work/main/master/master.c" "master/CMakeFiles/hn_master.dir/master.c.o" "gcc" "master/CMakeFiles/hn_master.dir/master.c.o.d"
  "/work/main/master/metrics.c" "master/CMakeFiles/hn_master.dir/metrics.c.o" "gcc" "master/CMakeFiles/hn_master.dir/metrics.c.o.d"
  "/work/main/master/paths.c" "master/CMakeFiles/hn_master.dir/paths.c.o" "gcc" "master/CMakeFiles/hn_master.dir/paths.c.o.d"
  "/work/main/master/report.c" "master/CMakeFiles/hn_master.dir/report.c.o" "gcc" "master/CMakeFiles/hn_master.dir/report.c.o.d"
  "/work/main/master/report_csv.c" "master/CMakeFiles/hn_master.dir/report_csv.c.o" "gcc" "master/CMakeFiles/hn_master.dir/report_csv.c.o.d"
  "/work/main/master/sinks.c" "master/CMakeFiles/hn_master.dir/sinks.c.o" "gcc" "master/CMakeFiles/hn_master.dir/sinks.c.o.d"
  "/work/main/master/store.c" "master/CMakeFiles/hn_master.dir/store.c.o" "gcc" "master/CMakeFiles/hn_master.dir/store.c.o.d"
  "/work/main/master/tty.c" "master/CMakeFiles/hn_master.dir/tty.c.o" "gcc" "master/CMakeFiles/hn_master.dir/tty.c.o.d"
  "/work/main/build-dev/master/ui_html.c" "master/CMakeFiles/hn_master.dir/ui_html.c.o" "gcc" "master/CMakeFiles/hn_master.dir/ui_html.c.o.d"
  "/work/main/master/verdicts.c" "master/CMakeFiles/hn_master.dir/verdicts.c.o" "gcc" "master/CMakeFiles/hn_master.dir/verdicts.c.o.d"
  "/work/main/master/web.c" "master/CMakeFiles/hn_master.dir/web.c.o" "gcc" "master/CMakeFiles/hn_master.dir/web.c.o.d"
  "/work/main/master/webui.c" "master/CMakeFiles/hn_master.dir/webui.c.o" "gcc" "master/CMakeFiles/hn_master.dir/webui.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  "/work/main/build-dev/proto/CMakeFiles/hn_proto.dir/DependInfo.cmake"
  "/work/main/build-dev/common/CMakeFiles/hn_common.dir/DependInfo.cmake"
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
