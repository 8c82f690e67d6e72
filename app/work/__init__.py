"""My work: what waits for each user, and where they land after logging in."""
