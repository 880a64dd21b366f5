"""Benchmarks of the write side; run ``python -m bench`` (or ``make bench``)."""
