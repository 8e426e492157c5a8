# Empty dependencies file for test_wired.
# This may be replaced when dependencies are built.
