"""Tests of the "Export invoices for payment" job."""
