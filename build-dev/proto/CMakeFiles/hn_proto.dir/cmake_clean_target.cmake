file(REMOVE_RECURSE
  "libhn_proto.a"
)
