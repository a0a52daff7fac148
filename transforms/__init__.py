"""Beam stages: one composite PTransform per module, over pure functions."""
