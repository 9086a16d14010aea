"""One module per area; each defines `router` and is listed in responders/web/routes.py."""
