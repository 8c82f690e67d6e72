"""Aleph budget migration (flask migrate aleph-budgets)."""
