file(REMOVE_RECURSE
  "CMakeFiles/hn_worker.dir/check.c.o"
  "CMakeFiles/hn_worker.dir/check.c.o.d"
  "CMakeFiles/hn_worker.dir/cookie.c.o"
  "CMakeFiles/hn_worker.dir/cookie.c.o.d"
  "CMakeFiles/hn_worker.dir/h1resp.c.o"
  "CMakeFiles/hn_worker.dir/h1resp.c.o.d"
  "CMakeFiles/hn_worker.dir/http.c.o"
  "CMakeFiles/hn_worker.dir/http.c.o.d"
  "CMakeFiles/hn_worker.dir/http_curl.c.o"
  "CMakeFiles/hn_worker.dir/http_curl.c.o.d"
  "CMakeFiles/hn_worker.dir/http_native.c.o"
  "CMakeFiles/hn_worker.dir/http_native.c.o.d"
  "CMakeFiles/hn_worker.dir/runner.c.o"
  "CMakeFiles/hn_worker.dir/runner.c.o.d"
  "CMakeFiles/hn_worker.dir/sysinfo.c.o"
  "CMakeFiles/hn_worker.dir/sysinfo.c.o.d"
  "CMakeFiles/hn_worker.dir/user.c.o"
  "CMakeFiles/hn_worker.dir/user.c.o.d"
  "CMakeFiles/hn_worker.dir/worker.c.o"
  "CMakeFiles/hn_worker.dir/worker.c.o.d"
  "CMakeFiles/hn_worker.dir/ws.c.o"
  "CMakeFiles/hn_worker.dir/ws.c.o.d"
  "libhn_worker.a"
  "libhn_worker.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/hn_worker.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
