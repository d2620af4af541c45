"""Topic detectors: one file per kind, registered by kind name in `registry`."""
