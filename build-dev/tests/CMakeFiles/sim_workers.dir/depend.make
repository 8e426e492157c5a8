# Empty dependencies file for sim_workers.
# This may be replaced when dependencies are built.
