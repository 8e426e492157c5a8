# Empty dependencies file for hn_worker.
# This may be replaced when dependencies are built.
