"""SMTP delivery: settings from env/config, one reused connection for many messages, errors for people.

Settings (env ``CLAUSEWATCH_<NAME>`` or ``[clausewatch] <name>`` in the TOML config): ``smtp_host``,
``smtp_port``, ``smtp_tls`` (``none`` | ``starttls`` | ``ssl``), ``smtp_user``, ``smtp_password``,
``smtp_from``, ``smtp_timeout``, ``smtp_cafile``. The password is never printed or logged.
"""
from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass, field

from clausewatch.config import setting
from clausewatch.digest.addresses import AddressError, validate_email
from clausewatch.digest.messages import Mail

TLS_MODES = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}


class MailError(RuntimeError):
    """A message the SMTP server did not accept, or a server that cannot be reached (one line)."""


@dataclass
class SmtpSettings:
    host: str | None
    port: int
    tls: str = "none"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str = "clausewatch@localhost"
    timeout: float = 30.0
    cafile: str | None = None

    @classmethod
    def from_config(cls) -> SmtpSettings:
        tls = str(setting("smtp_tls", "none")).strip().lower()
        tls = {"": "none", "0": "none", "false": "none", "no": "none", "1": "starttls", "true": "starttls",
               "yes": "starttls", "tls": "ssl"}.get(tls, tls)
        if tls not in TLS_MODES:
            raise MailError(f"smtp_tls = {tls!r} is not one of {', '.join(TLS_MODES)}")
        port = setting("smtp_port")
        try:
            port = int(port) if port not in (None, "") else DEFAULT_PORTS[tls]
            timeout = float(setting("smtp_timeout", 30))
        except (TypeError, ValueError):
            raise MailError(f"smtp_port {port!r} or smtp_timeout is not a number") from None
        sender = str(setting("smtp_from") or "clausewatch@localhost")
        try:
            validate_email(sender, dotted_domain=False)
        except AddressError as exc:
            raise MailError(f"smtp_from: {exc}") from None
        return cls(host=setting("smtp_host") or None, port=port, tls=tls, user=setting("smtp_user") or None,
                   password=setting("smtp_password") or None, sender=sender, timeout=timeout,
                   cafile=setting("smtp_cafile") or None)

    def describe(self) -> str:
        """``host:port (starttls, user alice)``: for messages; never includes the password."""
        extra = self.tls + (f", user {self.user}" if self.user else "")
        return f"{self.host}:{self.port} ({extra})"


class Mailer:
    """Sends messages over one SMTP connection, opened on first use and reopened if the server drops it.

    When the server cannot be reached, every later :meth:`send` of the same mailer fails at once with the
    same error, so a run with the server down does not wait for a timeout per subscriber.
    """

    def __init__(self, settings: SmtpSettings | None = None) -> None:
        self._settings = settings
        self._smtp: smtplib.SMTP | None = None
        self.down: str | None = None
        self.sent = 0

    @property
    def settings(self) -> SmtpSettings:
        if self._settings is None:
            self._settings = SmtpSettings.from_config()
        return self._settings

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.cafile)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if not s.host:
            raise MailError("no SMTP server configured: set CLAUSEWATCH_SMTP_HOST (or smtp_host in the config)")
        try:
            if s.tls == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._tls_context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            smtp.ehlo_or_helo_if_needed()
            if s.tls == "starttls":
                smtp.starttls(context=self._tls_context())
                smtp.ehlo()
            if s.user:
                smtp.login(s.user, s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise MailError(f"SMTP server {s.describe()} refused the login: {exc.smtp_code} "
                            f"{_reply(exc.smtp_error)}") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise MailError(f"SMTP server {s.describe()}: {exc}") from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise MailError(f"cannot connect to SMTP server {s.describe()}: {_describe(exc)}") from None
        return smtp

    def send(self, mail: Mail) -> str:
        """Send ``mail`` to exactly its recipient (the envelope, not the headers, decides). Returns a
        status line once the server accepted the message; raises :class:`MailError` otherwise."""
        if self.down:
            raise MailError(self.down)
        for attempt in (1, 2):
            if self._smtp is None:
                try:
                    self._smtp = self._connect()
                except MailError as exc:
                    self.down = str(exc)
                    raise
            try:
                self._smtp.sendmail(mail.sender, [mail.recipient], mail.raw)
            except smtplib.SMTPServerDisconnected as exc:
                self._smtp = None
                if attempt == 2:
                    raise MailError(f"SMTP server {self.settings.describe()} closed the connection: {exc}") from None
                continue  # a reused connection the server had dropped: reconnect once
            except smtplib.SMTPRecipientsRefused as exc:
                code, reply = next(iter(exc.recipients.values()))
                self._reset()
                raise MailError(f"SMTP server refused the recipient: {code} {_reply(reply)}") from None
            except smtplib.SMTPResponseException as exc:
                self._reset()
                raise MailError(f"SMTP server refused the message: {exc.smtp_code} {_reply(exc.smtp_error)}") from None
            except (smtplib.SMTPException, OSError) as exc:
                self.close()
                raise MailError(f"sending through {self.settings.describe()} failed: {_describe(exc)}") from None
            self.sent += 1
            return "250 accepted"
        raise AssertionError("unreachable")

    def _reset(self) -> None:
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()


def _reply(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())[:200]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    return " ".join(str(exc).split())[:200] or type(exc).__name__
