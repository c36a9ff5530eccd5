"""capability."""
