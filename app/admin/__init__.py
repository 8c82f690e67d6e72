"""Administration: users, their roles and scopes, libraries, fund types."""
