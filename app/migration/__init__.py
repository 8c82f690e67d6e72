"""Migration of budgets from Aleph (Z76 budgets, Z601 budget transactions)."""
