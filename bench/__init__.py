"""Benchmarks that run the real system (see docs/performance.md)."""
