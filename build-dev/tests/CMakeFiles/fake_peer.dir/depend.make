# Empty dependencies file for fake_peer.
# This may be replaced when dependencies are built.
