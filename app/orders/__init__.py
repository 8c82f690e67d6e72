"""Purchase orders and PO lines."""
