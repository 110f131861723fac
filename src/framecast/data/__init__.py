"""Bundled data files (the model catalog)."""
