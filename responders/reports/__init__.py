"""Reports: append-only response-time events and the queries over them."""
