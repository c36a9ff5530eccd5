"""Storage: the repository port, index extraction and adapters (DESIGN.md law 2)."""
