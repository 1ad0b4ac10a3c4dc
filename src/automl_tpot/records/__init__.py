"""Typed records of a run (evaluations, leaderboard, Pareto front, manifest, job record)
and their published JSON Schemas."""
