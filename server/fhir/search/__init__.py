"""FHIR search: query strings to the adapter-neutral IR (R4 search.html)."""
