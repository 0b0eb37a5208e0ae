"""Hand-run benchmarks (not tests); the method and every round: docs/benchmarks.md."""
