"""Tiny plugins that give the benchmarks a realistic per-message and per-line cost."""
