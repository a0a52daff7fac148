"""Data cards rendered from a run's manifest (step 6 of the roadmap)."""
