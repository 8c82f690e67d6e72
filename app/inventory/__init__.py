"""A small bibliographic inventory: records, holdings, items, and a repository search."""
