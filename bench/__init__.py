"""Benchmarks: not collected by pytest; each writes JSON to bench/results/ and prints a table."""
