file(REMOVE_RECURSE
  "CMakeFiles/fake_peer.dir/tools/fake_peer.c.o"
  "CMakeFiles/fake_peer.dir/tools/fake_peer.c.o.d"
  "fake_peer"
  "fake_peer.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/fake_peer.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
