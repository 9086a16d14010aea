"""The demo's logins: one per role, with random passwords printed when the demo starts.

Only `mentiondesk demo` calls this, on its own throwaway database; nothing else has default
passwords.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from responders.users import passwords
from responders.users import service as users

# (role, email): the agent and the manager are demo.toml's employees; the admin is not one.
DEMO_LOGINS: tuple[tuple[str, str], ...] = (
    ("agent", "sam@northwind.example"),
    ("manager", "maria@northwind.example"),
    ("admin", "admin@northwind.example"),
)


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


def create_demo_users(session: Session, *, now: datetime) -> list[DemoLogin]:
    """Create (or give a fresh password to) each demo login; flushes, the caller commits."""
    out = []
    for role, email in DEMO_LOGINS:
        password = passwords.generate_password()
        if users.get_user_by_email(session, email) is None:
            users.create_user(session, email=email, password=password, role=role, now=now)
        else:
            users.set_password(session, email=email, password=password, now=now)
            users.set_role(session, email=email, role=role)
        out.append(DemoLogin(role, email, password))
    return out
