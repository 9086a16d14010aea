"""Web accounts: users with argon2 password hashes, roles, API tokens, sessions, login attempts."""
