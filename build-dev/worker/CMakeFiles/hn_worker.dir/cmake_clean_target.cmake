file(REMOVE_RECURSE
  "libhn_worker.a"
)
