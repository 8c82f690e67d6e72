"""The benchmarks (bench/README.md). Their data are of fiscal year 2026 (BENCH2026 and the generated
databases), so importing this package pins the app's business day (app/clock.py) to ``BENCH_TODAY``
through ``ACQ_TODAY``, for the benchmark and every process it starts: the same work on any real date."""
import os

BENCH_TODAY = "2026-12-05"
os.environ["ACQ_TODAY"] = BENCH_TODAY
