"""The [notify] configuration section: where notifications go. Secrets come from the environment.

[notify]
webhook_url_env = "MENTIONDESK_SLACK_WEBHOOK_URL"   # a Slack-compatible incoming webhook

[notify.email]
smtp_host = "smtp.example.com"
smtp_port = 587
sender = "mentiondesk@example.com"
starttls = true
username_env = "MENTIONDESK_SMTP_USER"
password_env = "MENTIONDESK_SMTP_PASSWORD"
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from config.errors import ConfigError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _from_env(env_name: str, what: str, environ: Mapping[str, str] | None) -> SecretStr:
    environ = os.environ if environ is None else environ
    value = environ.get(env_name)
    if not value:
        raise ConfigError(f"notify: {what} is read from ${env_name}, which is not set")
    return SecretStr(value)


class EmailSettings(_Strict):
    smtp_host: str
    smtp_port: int = Field(25, ge=1, le=65535)
    sender: str  # the From address
    starttls: bool = False
    username_env: str | None = None
    password_env: str | None = None
    timeout_seconds: float = Field(10.0, gt=0)

    def login(self, environ: Mapping[str, str] | None = None) -> tuple[str, SecretStr] | None:
        if not self.username_env:
            return None
        user = _from_env(self.username_env, "the SMTP user name", environ).get_secret_value()
        password = (
            _from_env(self.password_env, "the SMTP password", environ)
            if self.password_env
            else SecretStr("")
        )
        return user, password


class NotifyConfig(_Strict):
    email: EmailSettings | None = None
    # The name of the environment variable holding the webhook URL (the URL is a secret).
    webhook_url_env: str | None = None
    webhook_timeout_seconds: float = Field(10.0, gt=0)
    max_attempts: int = Field(8, ge=1)  # then the notification is given up, and logged

    def webhook_url(self, environ: Mapping[str, str] | None = None) -> SecretStr | None:
        if not self.webhook_url_env:
            return None
        return _from_env(self.webhook_url_env, "the webhook URL", environ)
