# Empty dependencies file for test_threshold.
# This may be replaced when dependencies are built.
