"""Tell the operator when a source keeps failing: once per failure streak, by webhook and/or email.

A streak is the failed runs of a source's crawl job since its last successful run (skipped and
interrupted runs neither extend nor break it). When it reaches the threshold, every configured channel
is tried; a channel that could not be reached is tried again at the next failed run. What was sent is
recorded in ``operator_notifications`` (the channel only: addresses and webhook URLs stay private).
"""
from __future__ import annotations

import json
import logging
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from clausewatch.db.documents import source_by_id
from clausewatch.db.job_runs import failure_streak, record_notification

log = logging.getLogger("clausewatch.schedule")


@dataclass(frozen=True)
class NotifyConfig:
    threshold: int = 3
    webhook: str | None = None
    email: str | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "clausewatch@localhost"
    smtp_tls: str = ""          # "" (plain), "starttls" (also 1/true/yes) or "ssl"
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, setting) -> NotifyConfig:
        """From ``clausewatch.config.setting`` (env CLAUSEWATCH_<NAME> or the TOML config)."""
        threshold = setting("failure_threshold", 3)
        try:
            threshold = int(threshold)
            if threshold < 1:
                raise ValueError
        except (TypeError, ValueError):
            raise ValueError(f"setting failure_threshold = {threshold!r} must be a whole number >= 1") from None
        port = setting("smtp_port")
        return cls(threshold=threshold, webhook=setting("operator_webhook") or None,
                   email=setting("operator_email") or None, smtp_host=setting("smtp_host") or None,
                   smtp_port=int(port) if port else None, smtp_user=setting("smtp_user") or None,
                   smtp_password=setting("smtp_password") or None,
                   smtp_from=setting("smtp_from") or "clausewatch@localhost",
                   smtp_tls=str(setting("smtp_tls") or "").strip().lower())

    def channels(self) -> list[str]:
        return [name for name, target in (("webhook", self.webhook), ("email", self.email)) if target]


class Notifier:
    def __init__(self, config: NotifyConfig):
        self.config = config

    def after_failure(self, db, spec, job_run_id: int) -> list[str]:
        """Called after a failed run of a crawl job; notifies when the streak reaches the threshold.
        Returns the channels that were reached."""
        streak = failure_streak(db, spec.id)
        if streak["count"] < self.config.threshold or streak["notified"]:
            return []
        payload = alert_payload(db, spec, streak, self.config.threshold)
        channels = self.config.channels()
        if not channels:
            log.warning("alert %s failed %d times in a row (no operator_webhook or operator_email configured): %s",
                        spec.source_id, streak["count"], payload["last_error"])
            record_notification(db, job_id=spec.id, source_id=spec.source_id, job_run_id=job_run_id,
                                failures=streak["count"], channel="log", ok=True)
            return ["log"]
        reached = []
        for channel in channels:
            try:
                self.send_webhook(payload) if channel == "webhook" else self.send_email(payload)
            except NotifyError as exc:
                log.warning("alert %s: %s could not be sent: %s", spec.source_id, channel, exc)
                record_notification(db, job_id=spec.id, source_id=spec.source_id, job_run_id=job_run_id,
                                    failures=streak["count"], channel=channel, ok=False, error=str(exc))
                continue
            log.info("alert %s failed %d times in a row: operator notified by %s", spec.source_id,
                     streak["count"], channel)
            record_notification(db, job_id=spec.id, source_id=spec.source_id, job_run_id=job_run_id,
                                failures=streak["count"], channel=channel, ok=True)
            reached.append(channel)
        return reached

    def send_webhook(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(str(self.config.webhook), data=body, method="POST",
                                         headers={"Content-Type": "application/json",
                                                  "User-Agent": "clausewatch-scheduler"})
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise NotifyError(f"webhook answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise NotifyError(f"webhook unreachable: {getattr(exc, 'reason', exc)}") from None

    def send_email(self, payload: dict[str, Any]) -> None:
        cfg = self.config
        if not cfg.smtp_host:
            raise NotifyError("operator_email is set but CLAUSEWATCH_SMTP_HOST is not")
        message = EmailMessage()
        message["From"] = cfg.smtp_from
        message["To"] = cfg.email
        message["Subject"] = payload["summary"]
        message.set_content(alert_text(payload))
        use_ssl = cfg.smtp_tls == "ssl"
        starttls = cfg.smtp_tls in ("starttls", "1", "true", "yes")
        port = cfg.smtp_port or (465 if use_ssl else 587 if starttls else 25)
        try:
            smtp_class = smtplib.SMTP_SSL if use_ssl else smtplib.SMTP
            with smtp_class(cfg.smtp_host, port, timeout=cfg.timeout) as smtp:
                if starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if cfg.smtp_user:
                    smtp.login(cfg.smtp_user, cfg.smtp_password or "")
                smtp.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise NotifyError(f"SMTP {cfg.smtp_host}:{port}: {exc}") from None


class NotifyError(RuntimeError):
    pass


def alert_payload(db, spec, streak: dict[str, Any], threshold: int) -> dict[str, Any]:
    row = source_by_id(db, spec.source_id) if spec.source_id else None
    source = (row["url"], row["last_success_at"], row["last_error"]) if row else None
    runs = streak["runs"]
    last_error = runs[-1]["error"] if runs else None
    return {
        "event": "source_failing",
        "summary": f"clausewatch: source {spec.source_id} failed {streak['count']} times in a row",
        "source_id": spec.source_id, "job_id": spec.id, "failures": streak["count"], "threshold": threshold,
        "url": source[0] if source else None, "last_success_at": source[1] if source else None,
        "last_error": last_error or (source[2] if source else None),
        "runs": [{"started_at": r["started_at"], "outcome": r["outcome"], "error": r["error"]} for r in runs[-5:]],
    }


def alert_text(payload: dict[str, Any]) -> str:
    lines = [payload["summary"] + ".", "", f"URL: {payload['url']}",
             f"Last success: {payload['last_success_at'] or 'never'}", "", "Recent failed runs:"]
    lines += [f"  {r['started_at']}  {r['outcome']}: {r['error']}" for r in payload["runs"]]
    lines += ["", "Check the source declaration and the URL (`clausewatch status`); you will be told again",
              "only after the source has succeeded once and starts failing again."]
    return "\n".join(lines) + "\n"
