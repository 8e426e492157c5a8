file(REMOVE_RECURSE
  "libhn_master.a"
)
