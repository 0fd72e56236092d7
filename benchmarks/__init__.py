"""Benchmarks: plain commands that print a table and write JSON to benchmarks/results/."""
