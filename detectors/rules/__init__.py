"""Topic-specific English rule sets, one file per family, each with golden tests."""
