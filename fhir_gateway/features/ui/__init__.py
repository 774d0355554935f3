"""The web console at `/ui`: pages for people over the simplified API."""
