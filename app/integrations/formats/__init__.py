"""Pure builders and parsers of the files exchanged with the ERP (no Flask, no database)."""
