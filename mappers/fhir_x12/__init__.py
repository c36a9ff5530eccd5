"""Pure translations between FHIR R4 resources (as JSON dicts) and X12 5010 loop trees.

One module per direction; no I/O (DESIGN.md law 4). Money values are ``decimal.Decimal`` so the
amounts of a remittance keep their exact text; the server's JSON codec writes them as numbers.
"""
