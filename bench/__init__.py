"""Hand-run benchmarks (not tests); see README.md, section Benchmarks."""
