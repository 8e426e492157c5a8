# Empty dependencies file for hn_common.
# This may be replaced when dependencies are built.
