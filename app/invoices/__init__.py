"""Invoices and the invoice workflow."""
