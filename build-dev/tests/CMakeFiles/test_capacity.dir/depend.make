# Empty dependencies file for test_capacity.
# This may be replaced when dependencies are built.
