# Empty dependencies file for test_log.
# This may be replaced when dependencies are built.
