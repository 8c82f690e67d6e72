"""Vendor models (filled in by the vendors slice)."""
