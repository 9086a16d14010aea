"""`mentiondesk users ...` run as a real subprocess against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from responders.users import passwords
from responders.users.models import ApiToken, User

REPO = Path(__file__).resolve().parents[2]


def _run(database_url: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "responders.cli", "users", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "DATABASE_URL": database_url},
        timeout=120,
    )


def test_create_set_password_and_tokens(database_url, session_factory, web_users) -> None:
    created = _run(
        database_url,
        "create",
        "ops@northwind.example",
        "--role",
        "admin",
        "--password-stdin",
        stdin="a long enough secret\n",
    )
    assert created.returncode == 0, created.stderr
    assert "admin, not an employee" in created.stdout
    with session_factory() as session:
        user = session.scalars(select(User).where(User.email == "ops@northwind.example")).one()
        assert passwords.verify_password(user.password_hash, "a long enough secret")
        assert "a long enough secret" not in user.password_hash

    # A second create for the same email is an error that says what to do instead.
    again = _run(database_url, "create", "ops@northwind.example", "--role", "admin", "--generate")
    assert again.returncode == 1 and "already exists (use set-password)" in again.stderr

    generated = _run(database_url, "set-password", "ops@northwind.example", "--generate")
    assert generated.returncode == 0, generated.stderr
    new_password = generated.stdout.strip().splitlines()[-1].removeprefix("password: ")
    with session_factory() as session:
        user = session.get(User, user.id)
        assert passwords.verify_password(user.password_hash, new_password)

    token = _run(database_url, "token", "create", "ops@northwind.example", "--name", "crm")
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip()
    assert secret.startswith("mdk_") and len(secret) > 40
    with session_factory() as session:
        row = session.scalars(select(ApiToken)).one()
        assert row.token_hash != secret and secret.startswith(row.prefix)
    listed = _run(database_url, "token", "list", "ops@northwind.example")
    assert "crm" in listed.stdout and secret not in listed.stdout
    assert _run(database_url, "token", "revoke", str(row.id)).returncode == 0
    assert "REVOKED" in _run(database_url, "token", "list", "ops@northwind.example").stdout


def test_employee_gets_their_role_and_link(database_url, session_factory, web_users) -> None:
    # web_users made Sam an employee with a login; a new employee without a login:
    from config.people import EmployeeConfig
    from listener.store.db import session_scope
    from responders.employees.service import upsert_employee

    with session_scope(session_factory) as session:
        employee = upsert_employee(
            session,
            spec=EmployeeConfig(name="Priya Shah", email="priya@northwind.example", role="manager"),
        )
    result = _run(
        database_url,
        "create",
        "Priya@Northwind.example",
        "--password-stdin",
        stdin="priya's passphrase\n",
    )
    assert result.returncode == 0, result.stderr
    assert f"manager, employee #{employee.id}" in result.stdout


def test_bad_input_is_a_clear_error(database_url, web_users) -> None:
    weak = _run(
        database_url,
        "create",
        "x@northwind.example",
        "--role",
        "agent",
        "--password-stdin",
        stdin="short\n",
    )
    assert weak.returncode == 1 and "at least 10 characters" in weak.stderr
    no_role = _run(database_url, "create", "x@northwind.example", "--generate")
    assert no_role.returncode == 1 and "give the role" in no_role.stderr
    bad_role = _run(database_url, "create", "x@northwind.example", "--role", "boss", "--generate")
    assert bad_role.returncode == 1 and "unknown role 'boss'" in bad_role.stderr
    unknown = _run(database_url, "set-password", "ghost@northwind.example", "--generate")
    assert unknown.returncode == 1 and "no user with email" in unknown.stderr
