"""Durable jobs (DESIGN.md law 3): the worker loop and the claim pipeline's idempotent handlers."""
