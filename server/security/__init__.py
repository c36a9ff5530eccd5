"""SMART on FHIR security: the authorization server, tokens, scopes, policy and audit."""
