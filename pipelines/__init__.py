"""Pipelines and the `codepref` command line."""
