"""One digest run: for every due, confirmed subscription, send the substantive changes matching its
filters that it has not received yet, and record the attempt.

Exactly once: a change is marked delivered to a subscription in the same transaction that logs a
successful attempt, and only after the SMTP server accepted the message or the webhook answered 2xx.
A failure marks nothing and schedules a retry with exponential backoff (``next_attempt_at``). One run at
a time (a lock file beside the private database), so two runs cannot send the same change twice.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clausewatch.config import setting
from clausewatch.db import connect, connect_private, now_iso
from clausewatch.db import subscriptions as store
from clausewatch.db.openness import rating_digest_items
from clausewatch.digest import webhook
from clausewatch.digest.addresses import mask_email, mask_url
from clausewatch.digest.compose import change_html, change_text
from clausewatch.digest.filters import change_key, describe_filters, is_new_for, matches
from clausewatch.digest.links import item_url, unsubscribe_url
from clausewatch.digest.mailer import Mailer, MailError
from clausewatch.digest.messages import digest_message
from clausewatch.digest.tokens import hash_token, new_token

PERIODS = {"immediate": dt.timedelta(0), "daily": dt.timedelta(days=1), "weekly": dt.timedelta(days=7)}
# a daily job that ran at 06:00:05 yesterday is due again at 06:00:02 today
SLACK = {"immediate": dt.timedelta(0), "daily": dt.timedelta(hours=1), "weekly": dt.timedelta(hours=6)}
BACKOFF_BASE = dt.timedelta(minutes=5)
BACKOFF_CAP = dt.timedelta(hours=24)
UNSUBSCRIBE_LINKS_KEPT = 60


class DigestError(RuntimeError):
    """A digest run that cannot start (no database, another run in progress), one line."""


@dataclass
class Outcome:
    subscription_id: int
    channel: str
    recipient: str                 # masked: never the full address or webhook path
    changes: list[dict[str, Any]]
    more: int = 0
    ok: bool | None = None         # None: dry run
    status: str | None = None
    error: str | None = None
    next_attempt_at: str | None = None


@dataclass
class DigestReport:
    dry_run: bool
    due: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    feeds: int = 0

    @property
    def sent(self) -> int:
        return sum(1 for o in self.outcomes if o.ok)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if o.ok is False)

    @property
    def changes(self) -> int:
        return sum(len(o.changes) for o in self.outcomes if o.ok or self.dry_run)


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def backoff_delay(failures: int) -> dt.timedelta:
    """Wait before retry number ``failures`` (1, 2, ...): 5 min, 10, 20, ... capped at 24 h."""
    return min(BACKOFF_BASE * (2 ** max(failures - 1, 0)), BACKOFF_CAP)


def is_due(subscription: dict[str, Any], now: dt.datetime, *, retry_now: bool = False) -> bool:
    """Whether a subscription gets a digest now: its cadence has elapsed since the last one sent, and a
    failed delivery's backoff is over (``retry_now`` ignores the backoff)."""
    if subscription["channel"] == "feed":
        return False
    if not retry_now and subscription.get("next_attempt_at") and _parse(subscription["next_attempt_at"]) > now:
        return False
    cadence = subscription.get("cadence") or "daily"
    last = subscription.get("last_digest_at")
    if cadence == "immediate" or not last:
        return True
    return now - _parse(last) >= PERIODS[cadence] - SLACK[cadence]


def shown_recipient(subscription: dict[str, Any]) -> str:
    if subscription["channel"] == "email":
        return mask_email(subscription["address"])
    if subscription["channel"] == "webhook":
        return mask_url(subscription["address"])
    return "atom feed"


def delivery_id(subscription_id: int, change_ids: list[int]) -> str:
    """The same for a retry of the same changes: receivers can drop a copy re-sent after a crash."""
    key = f"{subscription_id}:{','.join(map(str, change_ids))}"
    return hashlib.sha256(key.encode()).hexdigest()[:32]


@contextmanager
def run_lock(private_path: Path) -> Iterator[None]:
    lock_path = private_path.with_name(private_path.name + ".digest.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DigestError(f"another `clausewatch digest` is running (lock {lock_path})") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class _Fragments:
    """Each change rendered once per run, however many subscribers receive it."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[str, str, str]] = {}

    def get(self, change: dict[str, Any]) -> tuple[str, str, str]:
        cid = change["id"]
        if cid not in self._cache:
            link = item_url(change)
            self._cache[cid] = (link, change_text(change, link), change_html(change, link))
        return self._cache[cid]


def _int_setting(name: str, default: int) -> int:
    try:
        return int(setting(name, default))
    except (TypeError, ValueError):
        raise DigestError(f"setting {name} = {setting(name)!r} is not a whole number") from None


def run_digest(public_path: Path, private_path: Path, *, dry_run: bool = False, cadence: str | None = None,
               retry_now: bool = False, mailer: Mailer | None = None,
               progress: Callable[[Outcome], None] | None = None) -> DigestReport:
    """Deliver what is due (or, with ``dry_run``, only report it: nothing sent, nothing marked)."""
    if not public_path.exists():
        raise DigestError(f"{public_path}: no database yet; run `clausewatch crawl` first")
    max_changes = _int_setting("digest_max_changes", 200)
    timeout = float(_int_setting("webhook_timeout", 15))
    report = DigestReport(dry_run=dry_run)
    with run_lock(private_path):
        pdb = connect_private(private_path)
        db = connect(public_path, readonly=True)
        now = dt.datetime.now(dt.UTC)
        active = store.active_subscriptions(pdb, cadence=cadence)
        due = [s for s in active if is_due(s, now, retry_now=retry_now)]
        report.due = len(due)
        after = min((s["since_version_id"] for s in due), default=0)
        changes = store.substantive_changes(db, after_version_id=after)
        changes += rating_digest_items(db, after_version_id=after)  # openness verdicts that changed (issue 18)
        for change in changes:
            change["key"] = change_key(change)
        fragments = _Fragments()
        own_mailer = mailer is None
        mailer = mailer or Mailer()
        try:
            for sub in due:
                outcome = _deliver_one(pdb, sub, changes, fragments, mailer, dry_run=dry_run,
                                       max_changes=max_changes, timeout=timeout)
                if outcome is not None:
                    report.outcomes.append(outcome)
                    if progress:
                        progress(outcome)
        finally:
            if own_mailer:
                mailer.close()
        feeds_dir = setting("feeds_dir")
        if feeds_dir and not dry_run and cadence is None:
            from clausewatch.digest.feed import write_feeds

            report.feeds = write_feeds(db, store.active_subscriptions(pdb), Path(feeds_dir))
    return report


def _deliver_one(pdb, sub: dict[str, Any], changes: list[dict[str, Any]], fragments: _Fragments, mailer: Mailer,
                 *, dry_run: bool, max_changes: int, timeout: float) -> Outcome | None:
    candidates = [c for c in changes if is_new_for(c, sub) and matches(c, sub["filters"])]
    if not candidates:
        return None
    # by what a change is, not its row id: a new detector version stores the same change under another id
    seen = store.delivered_keys(pdb, sub["id"], [c["key"] for c in candidates])
    pending = [c for c in candidates if c["key"] not in seen]
    if not pending:
        return None
    batch, more = pending[:max_changes], max(len(pending) - max_changes, 0)
    outcome = Outcome(sub["id"], sub["channel"], shown_recipient(sub), batch, more)
    if dry_run:
        return outcome
    ids = [c["id"] for c in batch]
    did = delivery_id(sub["id"], ids)
    started = time.monotonic()
    try:
        if sub["channel"] == "email":
            outcome.status = _send_email(pdb, sub, batch, more, did, fragments, mailer)
        else:
            links = {c["id"]: fragments.get(c)[0] for c in batch}
            body = webhook.payload(subscription_id=sub["id"], delivery_id=did, sent_at=now_iso(), changes=batch,
                                   links=links, filters=sub["filters"], more=more)
            outcome.status = webhook.post(sub["address"], body, secret=sub["secret"], delivery_id=did,
                                          timeout=timeout)
        outcome.ok = True
    except (MailError, webhook.WebhookError) as exc:
        outcome.ok, outcome.error = False, str(exc)
        outcome.next_attempt_at = _iso(dt.datetime.now(dt.UTC) + backoff_delay(sub["failures"] + 1))
    store.record_attempt(pdb, sub["id"], channel=sub["channel"], change_ids=ids, ok=outcome.ok, now=now_iso(),
                         change_keys=[c["key"] for c in batch],
                         status=outcome.status, error=outcome.error, next_attempt_at=outcome.next_attempt_at,
                         duration_ms=int((time.monotonic() - started) * 1000))
    return outcome


def _send_email(pdb, sub: dict[str, Any], batch: list[dict[str, Any]], more: int, did: str,
                fragments: _Fragments, mailer: Mailer) -> str:
    if mailer.down:  # the server is unreachable this run: do not mint a link token for a mail never sent
        raise MailError(mailer.down)
    token = new_token()
    store.add_link_token(pdb, sub["id"], "unsubscribe", hash_token(token), now=now_iso(),
                         keep=UNSUBSCRIBE_LINKS_KEPT)
    parts = [fragments.get(c) for c in batch]
    message = digest_message(recipient=sub["address"], sender=mailer.settings.sender, changes=batch,
                             text_parts=[p[1] for p in parts], html_parts=[p[2] for p in parts],
                             unsubscribe_link=unsubscribe_url(token), delivery_id=did, more=more,
                             filters=describe_filters(sub["filters"]))
    return mailer.send(message)
