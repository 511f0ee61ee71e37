"""Subscribing, confirming, unsubscribing; tokens; which changes a subscription's filters select.

Tokens are ``secrets.token_urlsafe(32)`` (256 random bits), stored as their SHA-256 and compared with
``hmac.compare_digest``. The token printed at subscribe time unsubscribes and reads the subscription's
feed; it never confirms an email subscription (only the token mailed to the address does: double opt-in).
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from clausewatch.config import setting
from clausewatch.crawlers.registry import KINDS as DOCUMENT_KINDS
from clausewatch.db import connect, now_iso
from clausewatch.db import subscriptions as store
from clausewatch.digest.addresses import AddressError, check_webhook_url, validate_email
from clausewatch.serve import DATABASE_NAME

TOKEN_BYTES = 32
CHANNELS = ("email", "webhook", "feed")
CADENCES = ("immediate", "daily", "weekly")
CHANGE_KINDS = ("added", "removed", "modified", "moved")
FILTER_KEYS = ("family", "tag", "kind", "jurisdiction")
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8001"
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")
_FAMILY = re.compile(r"^[a-z0-9][a-z0-9.\-]*[a-z0-9]$")
_TAG = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
_JURISDICTION = re.compile(r"^(global|[A-Z]{2}(-[A-Z0-9]{1,3})?)$")


class SubscriptionError(ValueError):
    """A subscription request or token that cannot be honoured, with a one-line reason."""


# ---------------------------------------------------------------- tokens

def new_token() -> str:
    """256 random bits, URL-safe; never starting with ``-`` (a command line would read it as an option)."""
    while True:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        if not token.startswith("-"):
            return token


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def find_by_token(pdb: Database, token: str, purposes: tuple[str, ...]) -> dict[str, Any] | None:
    """The subscription ``token`` opens for one of ``purposes`` (``manage``, ``confirm``, ``unsubscribe``)."""
    token = token.strip()
    if not _TOKEN_SHAPE.match(token):
        return None
    digest = hash_token(token)
    row = store.subscription_by_token_hash(pdb, digest, purposes)
    # the lookup is by hash (timing reveals nothing about the token); compare in constant time anyway
    if row is None or not hmac.compare_digest(row["stored_hash"], digest):
        return None
    return row


# ---------------------------------------------------------------- links

def public_url() -> str:
    return str(setting("public_url") or DEFAULT_PUBLIC_URL).rstrip("/")


def confirm_url(token: str) -> str:
    return f"{public_url()}/-/subscriptions/confirm?token={token}"


def unsubscribe_url(token: str) -> str:
    return f"{public_url()}/-/subscriptions/unsubscribe?token={token}"


def change_url(change_id: int) -> str:
    """The change's row in the public Datasette (which serves the public database as ``clausewatch``)."""
    return f"{public_url()}/{DATABASE_NAME}/changes/{change_id}"


# ---------------------------------------------------------------- filters

def normalise_filters(raw: dict[str, list[str] | tuple[str, ...]],
                      known: dict[str, set[str]] | None = None) -> dict[str, list[str]]:
    """Checked, de-duplicated filter values. ``known`` (family/jurisdiction/kind values that exist) turns
    a typo into an error instead of a subscription that never receives anything."""
    known = known or {}
    out: dict[str, list[str]] = {}
    for key in FILTER_KEYS:
        values = []
        for value in raw.get(key) or ():
            value = value.strip()
            if key == "jurisdiction":
                value = "global" if value.lower() == "global" else value.upper()
            elif key in ("family", "tag", "kind"):
                value = value.lower()
            shape = {"family": _FAMILY, "tag": _TAG, "jurisdiction": _JURISDICTION}.get(key)
            if shape and not shape.match(value):
                raise SubscriptionError(f"--{key} {value!r} is not a valid {key}")
            pool = set(known.get(key) or ())
            if key == "kind":
                pool |= set(CHANGE_KINDS) | set(DOCUMENT_KINDS)
            if key == "jurisdiction" and pool:
                ok = any(j == value or j.startswith(value + "-") for j in pool)
            else:
                ok = not pool or value in pool
            if not ok:
                raise SubscriptionError(f"--{key} {value!r} matches no tracked document (known: "
                                        f"{', '.join(sorted(pool))})")
            if value not in values:
                values.append(value)
        if values:
            out[key] = values
    return out


def _tag_hit(tags: set[str], wanted: list[str]) -> bool:
    return any(t == w or t.startswith(w + ".") for t in tags for w in wanted)


def matches(change: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    """Whether a change (a row of :func:`db.subscriptions.substantive_changes`) passes the filters.

    Values of one filter are alternatives (OR); different filters must all hold (AND). ``family`` is the
    change's family (or its source's); ``jurisdiction`` J matches J and its subdivisions (US matches
    US-CA); ``kind`` is a document kind (license, use-policy, ...) or a change kind (added, removed,
    modified, moved); ``tag`` T matches T and its sub-tags (``restrict`` matches ``restrict.geographic``)
    among the tags the change adds or removes and the tags of the changed clause before or after it.
    """
    families = filters.get("family")
    if families and change.get("family") not in families and change.get("source_family") not in families:
        return False
    places = filters.get("jurisdiction")
    if places:
        where = change.get("jurisdiction") or ""
        if not any(where == j or where.startswith(j + "-") for j in places):
            return False
    kinds = filters.get("kind")
    if kinds:
        change_kinds = [k for k in kinds if k in CHANGE_KINDS]
        document_kinds = [k for k in kinds if k not in CHANGE_KINDS]
        if change_kinds and change.get("kind") not in change_kinds:
            return False
        if document_kinds and change.get("document_kind") not in document_kinds:
            return False
    tags = filters.get("tag")
    if tags:
        seen = set()
        for col in ("tags_added", "tags_removed", "new_clause_tags", "old_clause_tags"):
            seen.update(t for t in change.get(col) or () if isinstance(t, str))
        if not _tag_hit(seen, tags):
            return False
    return True


def is_new_for(change: dict[str, Any], subscription: dict[str, Any]) -> bool:
    """A change of a version compared after the subscription started (a new detector version storing an
    old change again does not make it new: its version is not)."""
    return change["new_version_id"] > (subscription.get("since_version_id") or 0)


def change_key(change: dict[str, Any]) -> str:
    """What a change is, independent of its row id: stable when the detector stores the same change again."""
    parts = [change.get(k) for k in ("source_id", "via_source_id", "scope", "old_version_id", "new_version_id",
                                     "kind", "old_path", "new_path", "old_text", "new_text")]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode("utf-8")).hexdigest()[:32]


def describe_filters(filters: dict[str, list[str]]) -> str:
    return "; ".join(f"{k}={','.join(v)}" for k, v in filters.items()) or "every substantive change"


def known_values(public_path: Path | None) -> dict[str, set[str]]:
    """Families, jurisdictions and document kinds declared in the registry or stored in the database."""
    known: dict[str, set[str]] = {"family": set(), "jurisdiction": set(), "kind": set()}
    try:
        from clausewatch.crawlers.registry import load_registry

        for source in load_registry().sources.values():
            known["family"].add(source.family)
            known["jurisdiction"].add(source.jurisdiction)
            known["kind"].add(source.kind)
    except Exception:  # noqa: BLE001 - a broken registry must not block subscribing; the db still helps
        pass
    if public_path is not None and public_path.exists():
        for key, values in store.known_filter_values(connect(public_path, readonly=True)).items():
            known[key] |= values
    return known


# ---------------------------------------------------------------- subscribe / confirm / unsubscribe

@dataclass
class NewSubscription:
    id: int
    channel: str
    address: str
    filters: dict[str, list[str]]
    cadence: str
    confirmed: bool
    token: str                      # shown once: unsubscribes, reads the feed
    secret: str | None = None       # webhooks: the HMAC signing secret, shown once
    feed_key: str | None = None


def subscribe(pdb: Database, public_path: Path | None, *, channel: str, address: str,
              filters: dict[str, list[str]], cadence: str = "daily", confirmed: bool = False,
              mailer: Any = None) -> NewSubscription:
    """Create a subscription. An unconfirmed email subscription gets a confirmation mail through
    ``mailer`` (a :class:`~clausewatch.digest.mailer.Mailer`); if it cannot be sent nothing is kept."""
    from clausewatch.digest.messages import confirmation_message

    if channel not in CHANNELS:
        raise SubscriptionError(f"channel {channel!r} is not one of {', '.join(CHANNELS)}")
    if cadence not in CADENCES:
        raise SubscriptionError(f"cadence {cadence!r} is not one of {', '.join(CADENCES)}")
    try:
        if channel == "email":
            address = validate_email(address)
        elif channel == "webhook":
            address = check_webhook_url(address)
        else:
            address = "atom"
    except AddressError as exc:
        raise SubscriptionError(str(exc)) from None
    filters = normalise_filters(filters, known_values(public_path))
    since_version = 0
    if public_path is not None and public_path.exists():
        since_version = store.change_watermark(connect(public_path, readonly=True))
    needs_confirmation = channel == "email" and not confirmed
    token, confirm_token = new_token(), new_token()
    secret = new_token() if channel == "webhook" else None
    now = now_iso()
    row = {"channel": channel, "address": address, "filters": filters, "cadence": cadence,
           "token_hash": hash_token(token), "secret": secret, "confirmed": int(not needs_confirmation),
           "confirmed_at": None if needs_confirmation else now, "since_version_id": since_version,
           "feed_key": secrets.token_urlsafe(16)}
    links = [("confirm", hash_token(confirm_token))] if needs_confirmation else []
    pk = store.insert_subscription(pdb, row, link_tokens=links, now=now)
    if needs_confirmation:
        from clausewatch.digest.mailer import MailError

        try:
            mailer.send(confirmation_message(address, describe_filters(filters), cadence, confirm_url(confirm_token),
                                             sender=mailer.settings.sender))
        except MailError as exc:
            store.delete_subscription(pdb, pk)
            raise SubscriptionError(f"could not send the confirmation mail to {address}: {exc}; "
                                    "nothing was saved") from None
    return NewSubscription(id=pk, channel=channel, address=address, filters=filters, cadence=cadence,
                           confirmed=not needs_confirmation, token=token, secret=secret, feed_key=row["feed_key"])


def confirm(pdb: Database, token: str) -> dict[str, Any]:
    """Confirm the email subscription the mailed ``token`` belongs to. Returns the subscription."""
    sub = find_by_token(pdb, token, ("confirm",))
    if sub is None:
        raise SubscriptionError("this confirmation token is unknown, already used or mistyped")
    if sub["unsubscribed_at"]:
        raise SubscriptionError(f"subscription #{sub['id']} was ended; subscribe again")
    store.confirm_subscription(pdb, sub["id"], now=now_iso())
    return store.get_subscription(pdb, sub["id"])


def unsubscribe(pdb: Database, token: str) -> tuple[dict[str, Any], bool]:
    """End the subscription the token (printed at subscribe time, or from any digest's unsubscribe link)
    belongs to. Returns (subscription, whether it was active until now)."""
    sub = find_by_token(pdb, token, ("manage", "unsubscribe", "confirm"))
    if sub is None:
        raise SubscriptionError("this token matches no subscription (mistyped, or from another installation)")
    was_active = sub["unsubscribed_at"] is None
    store.end_subscription(pdb, sub["id"], now=now_iso())
    return store.get_subscription(pdb, sub["id"]), was_active
