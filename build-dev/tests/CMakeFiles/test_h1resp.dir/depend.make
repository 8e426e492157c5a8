# Empty dependencies file for test_h1resp.
# This may be replaced when dependencies are built.
