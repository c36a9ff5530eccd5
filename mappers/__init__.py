"""Pure translation between X12, FHIR and upstream shapes: no I/O (DESIGN.md law 4)."""
