# Empty dependencies file for test_stages.
# This may be replaced when dependencies are built.
