"""Users, their passwords, API tokens, browser sessions and the login throttle.

Keyword-only functions over a Session; they flush, the caller commits.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from responders.employees.models import Employee
from responders.users import passwords, tokens
from responders.users.models import ROLES, ApiToken, LoginAttempt, User, WebSession, role_rank

SESSION_IDLE = timedelta(hours=12)  # a working day without a click logs you out
SESSION_MAX = timedelta(days=7)
# Login throttle: failures in the window, per email and per client address.
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_ADDRESS = 20


class UserError(ValueError):
    """Bad input for an account operation: unknown user, bad role, weak password, duplicate."""


class LoginRefused(Exception):
    """Wrong email or password (deliberately not saying which)."""


class LoginThrottled(Exception):
    def __init__(self, retry_after: timedelta) -> None:
        minutes = max(1, round(retry_after.total_seconds() / 60))
        super().__init__(f"too many failed logins: try again in {minutes} minute(s)")
        self.retry_after = retry_after


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise UserError(f"{email!r} is not an email address")
    return email


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def require_user(session: Session, email: str) -> User:
    user = get_user_by_email(session, email)
    if user is None:
        raise UserError(f"no user with email {email.strip()!r}")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.email)))


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: str | None = None,
    now: datetime,
) -> User:
    """A new login. Linked to the employee with the same email if there is one; the role defaults
    to that employee's role and must be given otherwise."""
    email = normalise_email(email)
    if get_user_by_email(session, email) is not None:
        raise UserError(f"a user with email {email!r} already exists (use set-password)")
    employee = session.scalar(select(Employee).where(Employee.email == email))
    role = role or (employee.role if employee else None)
    if role is None:
        raise UserError(f"{email} is not an employee: give the role ({', '.join(ROLES)})")
    try:
        role_rank(role)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    try:
        password_hash = passwords.hash_password(password)
    except passwords.WeakPassword as exc:
        raise UserError(str(exc)) from None
    user = User(
        email=email,
        password_hash=password_hash,
        role=role,
        employee_id=employee.id if employee else None,
        created_at=now,
        password_changed_at=now,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, *, email: str, password: str, now: datetime) -> User:
    """A new password; every browser logged in with the old one is logged out."""
    user = require_user(session, email)
    try:
        user.password_hash = passwords.hash_password(password)
    except passwords.WeakPassword as exc:
        raise UserError(str(exc)) from None
    user.password_changed_at = now
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.flush()
    return user


def set_role(session: Session, *, email: str, role: str) -> User:
    user = require_user(session, email)
    try:
        role_rank(role)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    user.role = role
    session.flush()
    return user


# --- logging in ---------------------------------------------------------------------------


def _failures_since(session: Session, column, value: str, since: datetime) -> list[datetime]:
    return list(
        session.scalars(
            select(LoginAttempt.at)
            .where(column == value, LoginAttempt.succeeded.is_(False), LoginAttempt.at > since)
            .order_by(LoginAttempt.at)
        )
    )


def check_throttle(session: Session, *, email: str, address: str, now: datetime) -> None:
    """LoginThrottled when this email or this address failed too often in the window."""
    since = now - THROTTLE_WINDOW
    for column, value, limit in (
        (LoginAttempt.email, email.strip().lower(), MAX_FAILURES_PER_EMAIL),
        (LoginAttempt.address, address, MAX_FAILURES_PER_ADDRESS),
    ):
        failures = _failures_since(session, column, value, since)
        if len(failures) >= limit:
            # Free again when the oldest failure that still counts leaves the window.
            oldest_counting = failures[-limit]
            raise LoginThrottled(oldest_counting + THROTTLE_WINDOW - now)


def authenticate(
    session: Session, *, email: str, password: str, address: str, now: datetime
) -> User:
    """The user, if the password is right and the throttle allows trying. Every try is recorded."""
    email = email.strip().lower()[:320]
    check_throttle(session, email=email, address=address, now=now)
    user = get_user_by_email(session, email)
    ok = passwords.verify_password(user.password_hash if user else None, password)
    ok = ok and user is not None and user.active
    session.add(LoginAttempt(email=email, address=address[:64], succeeded=ok, at=now))
    session.flush()
    if not ok:
        raise LoginRefused("wrong email or password")
    assert user is not None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = now
    session.flush()
    return user


def tidy_up(session: Session, *, now: datetime) -> None:
    """Forget login attempts older than 30 days and sessions that have ended (run at each login:
    two indexed deletes, so the tables stay small without a job of their own)."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.at < now - timedelta(days=30)))
    session.execute(
        delete(WebSession).where(
            (WebSession.expires_at <= now) | (WebSession.last_seen_at <= now - SESSION_IDLE)
        )
    )
    session.flush()


# --- browser sessions ---------------------------------------------------------------------


@dataclass(frozen=True)
class StartedSession:
    cookie_value: str  # goes to the browser only; the database keeps its hash
    csrf_token: str
    expires_at: datetime


def start_session(session: Session, *, user: User, now: datetime) -> StartedSession:
    secret = tokens.new_secret()
    row = WebSession(
        token_hash=tokens.digest(secret),
        user_id=user.id,
        csrf_token=tokens.new_secret(),
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_MAX,
    )
    session.add(row)
    session.flush()
    return StartedSession(secret, row.csrf_token, row.expires_at)


def session_for_cookie(session: Session, *, cookie_value: str, now: datetime) -> WebSession | None:
    """The live session behind a cookie, its idle clock restarted; None if unknown or expired."""
    row = session.get(WebSession, tokens.digest(cookie_value))
    if row is None:
        return None
    if row.expires_at <= now or row.last_seen_at + SESSION_IDLE <= now or not row.user.active:
        session.delete(row)
        session.flush()
        return None
    if now - row.last_seen_at > timedelta(minutes=1):  # not a write on every request
        row.last_seen_at = now
        session.flush()
    return row


def end_session(session: Session, *, cookie_value: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == tokens.digest(cookie_value)))
    session.flush()


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


# --- API tokens ---------------------------------------------------------------------------


def create_api_token(
    session: Session, *, user: User, name: str, now: datetime
) -> tuple[str, ApiToken]:
    """A new token for `user`. The token itself is returned once and never stored."""
    name = name.strip()
    if not name:
        raise UserError("give the token a name (what it is for)")
    secret = tokens.new_api_token()
    row = ApiToken(
        user_id=user.id,
        name=name[:100],
        token_hash=tokens.digest(secret),
        prefix=secret[:12],
        created_at=now,
    )
    session.add(row)
    session.flush()
    return secret, row


def list_api_tokens(session: Session, *, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
    )


def revoke_api_token(
    session: Session, *, token_id: int, user_id: int | None, now: datetime
) -> ApiToken:
    """Revoke a token; with `user_id`, only one of that user's own."""
    row = session.get(ApiToken, token_id)
    if row is None or (user_id is not None and row.user_id != user_id):
        raise UserError(f"no API token #{token_id}")
    row.revoked_at = row.revoked_at or now
    session.flush()
    return row


def user_for_api_token(session: Session, *, token: str, now: datetime) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == tokens.digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        row.last_used_at = now
        session.flush()
    return row.user


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0
