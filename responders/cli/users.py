"""Logins for the web app: users create|set-password|set-role|list, users token create|list|revoke.

Passwords are never command-line arguments (they would land in shell history and `ps`): they are
typed at a hidden prompt, read from stdin with --password-stdin, or generated with --generate.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import typer
from sqlalchemy.orm import Session

from listener.store.db import session_scope
from responders.cli import app
from responders.cli.common import ConfigOption, exits_cleanly, fail, make_context
from responders.users import passwords
from responders.users import service as users
from responders.users.models import ROLES

EXIT_INVALID = 1

users_app = typer.Typer(help="Logins for the web app and the API.", no_args_is_help=True)
token_app = typer.Typer(help="Per-user API tokens (stored hashed).", no_args_is_help=True)
app.add_typer(users_app, name="users")
users_app.add_typer(token_app, name="token")

PasswordStdin = typer.Option(
    False, "--password-stdin", help="Read the password from the first line of stdin."
)
Generate = typer.Option(False, "--generate", help="Make up a random password and print it once.")


@contextmanager
def _transaction(config: Path | None) -> Iterator[Session]:
    try:
        with session_scope(make_context(config).session_factory) as session:
            yield session
    except users.UserError as exc:
        raise fail(str(exc), EXIT_INVALID) from None


def _password(from_stdin: bool, generate: bool) -> tuple[str, bool]:
    """(password, was it generated)."""
    if from_stdin and generate:
        raise fail("choose one of --password-stdin and --generate")
    if generate:
        return passwords.generate_password(), True
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise fail("no password on stdin")
        return line, False
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True), False


def _now() -> datetime:
    return datetime.now(UTC)


@users_app.command("create")
@exits_cleanly
def users_create(
    email: str = typer.Argument(..., help="The login; an employee with it is linked."),
    role: str | None = typer.Option(
        None, "--role", help=f"{' | '.join(ROLES)} (default: the employee's role)."
    ),
    password_stdin: bool = PasswordStdin,
    generate: bool = Generate,
    config: Path = ConfigOption,
) -> None:
    """Create a login. Its password is prompted for, read from stdin, or generated."""
    password, generated = _password(password_stdin, generate)
    with _transaction(config) as session:
        user = users.create_user(session, email=email, password=password, role=role, now=_now())
        linked = f", employee #{user.employee_id}" if user.employee_id else ", not an employee"
        typer.echo(f"user #{user.id} {user.email} created ({user.role}{linked})")
    if generated:
        typer.echo(f"password: {password}")


@users_app.command("set-password")
@exits_cleanly
def users_set_password(
    email: str,
    password_stdin: bool = PasswordStdin,
    generate: bool = Generate,
    config: Path = ConfigOption,
) -> None:
    """Set a new password; the user's open browser sessions are logged out."""
    password, generated = _password(password_stdin, generate)
    with _transaction(config) as session:
        user = users.set_password(session, email=email, password=password, now=_now())
        typer.echo(f"password of {user.email} changed; their sessions were ended")
    if generated:
        typer.echo(f"password: {password}")


@users_app.command("set-role")
@exits_cleanly
def users_set_role(email: str, role: str, config: Path = ConfigOption) -> None:
    """Change a user's role (agent, manager, admin)."""
    with _transaction(config) as session:
        user = users.set_role(session, email=email, role=role)
        typer.echo(f"{user.email} is now {user.role}")


@users_app.command("list")
@exits_cleanly
def users_list(as_json: bool = typer.Option(False, "--json"), config: Path = ConfigOption) -> None:
    """Every login with its role and employee."""
    with _transaction(config) as session:
        rows = [
            {
                "id": u.id,
                "email": u.email,
                "role": u.role,
                "employee_id": u.employee_id,
                "active": u.active,
                "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
            }
            for u in users.list_users(session)
        ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no users yet: mentiondesk users create EMAIL --role admin")
    for row in rows:
        employee = f"employee #{row['employee_id']}" if row["employee_id"] else "-"
        typer.echo(f"{row['email']:<32} {row['role']:<8} {employee}")


@token_app.command("create")
@exits_cleanly
def token_create(
    email: str,
    name: str = typer.Option(..., "--name", help="What the token is for, e.g. 'CRM sync'."),
    config: Path = ConfigOption,
) -> None:
    """Create an API token for a user; it is printed once and stored only as a hash."""
    with _transaction(config) as session:
        user = users.require_user(session, email)
        secret, row = users.create_api_token(session, user=user, name=name, now=_now())
        typer.echo(f"token #{row.id} for {user.email} ({user.role}): {secret}", err=True)
    # The token alone on stdout, so `TOKEN=$(mentiondesk users token create ...)` works.
    typer.echo(secret)


@token_app.command("list")
@exits_cleanly
def token_list(email: str, config: Path = ConfigOption) -> None:
    """A user's tokens: id, name, first characters, last use, revoked."""
    with _transaction(config) as session:
        user = users.require_user(session, email)
        for t in users.list_api_tokens(session, user_id=user.id):
            used = t.last_used_at.isoformat() if t.last_used_at else "never used"
            state = " REVOKED" if t.revoked_at else ""
            typer.echo(f"#{t.id:<4} {t.name:<24} {t.prefix}…  {used}{state}")


@token_app.command("revoke")
@exits_cleanly
def token_revoke(token_id: int, config: Path = ConfigOption) -> None:
    """Revoke a token by its id (from `users token list`)."""
    with _transaction(config) as session:
        row = users.revoke_api_token(session, token_id=token_id, user_id=None, now=_now())
        typer.echo(f"token #{row.id} ({row.name}) revoked")
