"""Tests of the pure-Python money core (app.ledger): no app, no database."""
