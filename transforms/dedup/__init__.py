"""Exact and near (MinHash LSH) deduplication."""
