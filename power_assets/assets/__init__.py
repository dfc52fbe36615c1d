"""Dagster asset definitions, one module per pipeline stage, all generated from the ISO registry."""
