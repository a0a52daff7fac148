"""Tests of the `trainer` package (Bradley-Terry reward model)."""
