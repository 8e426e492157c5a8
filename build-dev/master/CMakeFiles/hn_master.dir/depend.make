# Empty dependencies file for hn_master.
# This may be replaced when dependencies are built.
