"""The web app: the staff desk, admin pages and the JSON API (see README.md to add pages)."""
