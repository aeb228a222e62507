"""Throughput and memory benchmarks of filterd against Postfix on the same machine."""
