file(REMOVE_RECURSE
  "CMakeFiles/hn_proto.dir/codec.c.o"
  "CMakeFiles/hn_proto.dir/codec.c.o.d"
  "CMakeFiles/hn_proto.dir/keys.c.o"
  "CMakeFiles/hn_proto.dir/keys.c.o.d"
  "CMakeFiles/hn_proto.dir/rpc.c.o"
  "CMakeFiles/hn_proto.dir/rpc.c.o.d"
  "libhn_proto.a"
  "libhn_proto.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/hn_proto.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
