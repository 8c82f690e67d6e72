"""People, roles, library scopes, login and API tokens."""
