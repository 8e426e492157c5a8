# Empty dependencies file for test_cookie.
# This may be replaced when dependencies are built.
