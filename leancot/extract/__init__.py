"""Extraction: traced theorems from Lean sources, stored as LeanDojo Benchmark 4 folders."""
