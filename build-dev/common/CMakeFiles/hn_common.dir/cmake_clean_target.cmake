file(REMOVE_RECURSE
  "libhn_common.a"
)
