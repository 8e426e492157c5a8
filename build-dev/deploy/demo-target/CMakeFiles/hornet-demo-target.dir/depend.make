# Empty dependencies file for hornet-demo-target.
# This may be replaced when dependencies are built.
