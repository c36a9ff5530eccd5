"""Clearinghouse JSON <-> FHIR: the Change Healthcare / Optum Medical Network JSON that Stedi
serves verbatim (CLEARINGHOUSES.md sections 2-3). Pure: no I/O."""
