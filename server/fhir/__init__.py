"""server/fhir."""
