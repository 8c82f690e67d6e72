"""Fiscal periods, ledgers, funds and their append-only transactions."""
