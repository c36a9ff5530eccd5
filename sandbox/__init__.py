"""Faithful local stand-ins of the outside systems (DESIGN.md law 7): OpenEMR first."""
