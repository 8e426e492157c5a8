# Empty dependencies file for hornet.
# This may be replaced when dependencies are built.
