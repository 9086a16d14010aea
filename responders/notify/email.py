"""Sending one notification by email over SMTP."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formataddr

from config.notify import EmailSettings


def send_email(
    settings: EmailSettings,
    *,
    to_address: str,
    to_name: str,
    subject: str,
    body: str,
    login: tuple[str, str] | None = None,
) -> None:
    """Raises OSError / smtplib.SMTPException when the server cannot take it."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = formataddr((to_name, to_address))
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(
        settings.smtp_host, settings.smtp_port, timeout=settings.timeout_seconds
    ) as smtp:
        if settings.starttls:
            smtp.starttls()
        if login is not None:
            smtp.login(*login)
        smtp.send_message(message)
