"""Inventory models (filled in by the inventory slice)."""
