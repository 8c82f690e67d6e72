"""Scheduled jobs, one module per job, each with a run(app, ...) function that the scheduler, the
CLI and the tests all call (the finance integration issue adds them)."""
