"""FHIR operations, one module each (R4 operations.html): `Claim/$submit`,
`CoverageEligibilityRequest/$submit`, `Claim/{id}/$status`."""
