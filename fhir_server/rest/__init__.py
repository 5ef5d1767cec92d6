"""The HTTP layer: thin handlers over the interactions."""
