"""Test material built by the package itself: documents printed in the shapes real reports come in."""
