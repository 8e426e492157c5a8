# Empty dependencies file for hn_proto.
# This may be replaced when dependencies are built.
