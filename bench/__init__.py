"""NET-CDS benchmark suite (issue 7): `python bench/run.py` runs it and rewrites BENCHMARKS.md."""
