"""Builders shared by the tests (tests/) and the benchmarks (bench/): a free port, an app served in a
thread, a throwaway PostgreSQL cluster, the standard world, SSH and FTP servers, allocation files
and the big-load contention run. Plain Python: nothing here imports pytest, so the benchmarks run
without the test dependencies, and the tests never import bench/."""

PASSWORD = "correct horse battery"   # every test user's password
# Cheap Argon2 parameters (PASSWORD_HASH_PARAMS) for test and benchmark apps.
FAST_HASH = {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}
