"""The `mentiondesk` command: the one place that wires everything together.

Each submodule registers its commands on `app` (or a sub-app); keep each one small.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="mentiondesk",
    help="Social listening and response desk: listen, understand, route, respond, report.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

# Registration order is the order `--help` lists them.
from responders.cli import listen  # noqa: E402,F401,I001
from responders.cli import demo  # noqa: E402,F401,I001
from responders.cli import people  # noqa: E402,F401,I001
from responders.cli import users  # noqa: E402,F401,I001
from responders.cli import replies  # noqa: E402,F401,I001
from responders.cli import classify  # noqa: E402,F401,I001
from responders.cli import report  # noqa: E402,F401,I001
from responders.cli import events  # noqa: E402,F401,I001
