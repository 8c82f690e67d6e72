"""Vendors (with accounts, addresses, contacts, EDI details) and the currency repository."""
