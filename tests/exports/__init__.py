"""Tests of the list exports (app/exports.py) and the lists that use it."""
