"""Benchmarks: `make bench` (python -m bench). Each prints its figures beside a
plain-SQL baseline run on the same machine in the same run."""
