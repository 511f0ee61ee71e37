"""Subscriptions, link tokens and the delivery log (private database); the change reads digests need
(public database).

Tokens arrive here already hashed: this module never sees a token or prints a secret.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

MANAGE = "manage"          # the token printed at subscribe time (subscriptions.token_hash)
SUBSCRIPTION_JSON = ("filters",)
CHANGE_JSON = ("cosmetic_reasons", "tags_added", "tags_removed", "entity_changes", "word_diff",
               "new_clause_tags", "old_clause_tags")


def _decode(row: dict[str, Any], columns: Iterable[str]) -> dict[str, Any]:
    for col in columns:
        value = row.get(col)
        if isinstance(value, str):
            try:
                row[col] = json.loads(value)
            except ValueError:
                row[col] = []
        elif value is None and col in row:
            row[col] = []
    return row


# ---------------------------------------------------------------- subscriptions (private)

def insert_subscription(pdb: Database, row: dict[str, Any], *, link_tokens: Iterable[tuple[str, str]] = (),
                        now: str) -> int:
    """Insert one subscription and its link tokens ((purpose, token_hash)...) in one transaction."""
    row = {**row, "filters": json.dumps(row.get("filters") or {}, sort_keys=True), "created_at": now}
    with pdb.atomic():
        pk = pdb["subscriptions"].insert(row).last_pk
        for purpose, token_hash in link_tokens:
            pdb["link_tokens"].insert({"subscription_id": pk, "purpose": purpose, "token_hash": token_hash,
                                       "created_at": now})
    return pk


def add_link_token(pdb: Database, subscription_id: int, purpose: str, token_hash: str, *, now: str,
                   keep: int | None = None) -> None:
    """Store a link token; with ``keep``, only the newest ``keep`` tokens of that purpose survive."""
    with pdb.atomic():
        pdb["link_tokens"].insert({"subscription_id": subscription_id, "purpose": purpose,
                                   "token_hash": token_hash, "created_at": now})
        if keep is not None:
            pdb.execute(
                """DELETE FROM link_tokens WHERE subscription_id = ? AND purpose = ? AND id NOT IN
                   (SELECT id FROM link_tokens WHERE subscription_id = ? AND purpose = ? ORDER BY id DESC LIMIT ?)""",
                [subscription_id, purpose, subscription_id, purpose, keep])


def subscription_by_token_hash(pdb: Database, token_hash: str, purposes: Iterable[str]) -> dict[str, Any] | None:
    """The subscription a hashed token belongs to, with ``token_purpose`` and ``stored_hash`` added."""
    purposes = list(purposes)
    if MANAGE in purposes:
        rows = list(pdb.query("SELECT *, token_hash AS stored_hash FROM subscriptions WHERE token_hash = ?",
                              [token_hash]))
        if rows:
            return _decode({**rows[0], "token_purpose": MANAGE}, SUBSCRIPTION_JSON)
    others = [p for p in purposes if p != MANAGE]
    if not others:
        return None
    marks = ",".join("?" * len(others))
    rows = list(pdb.query(
        f"""SELECT s.*, t.token_hash AS stored_hash, t.purpose AS token_purpose
            FROM link_tokens t JOIN subscriptions s ON s.id = t.subscription_id
            WHERE t.token_hash = ? AND t.purpose IN ({marks})""", [token_hash, *others]))
    return _decode(rows[0], SUBSCRIPTION_JSON) if rows else None


def get_subscription(pdb: Database, subscription_id: int) -> dict[str, Any] | None:
    rows = list(pdb.query("SELECT * FROM subscriptions WHERE id = ?", [subscription_id]))
    return _decode(rows[0], SUBSCRIPTION_JSON) if rows else None


def confirm_subscription(pdb: Database, subscription_id: int, *, now: str) -> None:
    with pdb.atomic():
        pdb.execute("UPDATE subscriptions SET confirmed = 1, confirmed_at = ? WHERE id = ? AND confirmed = 0",
                    [now, subscription_id])
        pdb.execute("DELETE FROM link_tokens WHERE subscription_id = ? AND purpose = 'confirm'", [subscription_id])


def end_subscription(pdb: Database, subscription_id: int, *, now: str) -> None:
    """Unsubscribe: nothing more is sent; the address, the webhook secret and the link tokens are erased."""
    with pdb.atomic():
        pdb.execute("""UPDATE subscriptions SET unsubscribed_at = ?, address = '', secret = NULL, feed_key = NULL,
                       next_attempt_at = NULL WHERE id = ? AND unsubscribed_at IS NULL""", [now, subscription_id])
        pdb.execute("DELETE FROM link_tokens WHERE subscription_id = ?", [subscription_id])


def delete_subscription(pdb: Database, subscription_id: int) -> None:
    """Remove a subscription that never started (its confirmation mail could not be sent)."""
    with pdb.atomic():
        pdb.execute("DELETE FROM link_tokens WHERE subscription_id = ?", [subscription_id])
        pdb.execute("DELETE FROM delivery_attempts WHERE subscription_id = ?", [subscription_id])
        pdb.execute("DELETE FROM deliveries WHERE subscription_id = ?", [subscription_id])
        pdb.execute("DELETE FROM subscriptions WHERE id = ?", [subscription_id])


def list_subscriptions(pdb: Database, *, include_ended: bool = False) -> list[dict[str, Any]]:
    """Every subscription with its delivery counts; never the token hashes or the webhook secret."""
    where = "" if include_ended else "WHERE s.unsubscribed_at IS NULL"
    rows = pdb.query(f"""
        SELECT s.id, s.channel, s.address, s.filters, s.cadence, s.confirmed, s.created_at, s.confirmed_at,
               s.unsubscribed_at, s.last_digest_at, s.next_attempt_at, s.failures, s.since_version_id,
               (SELECT count(*) FROM deliveries d WHERE d.subscription_id = s.id) AS delivered,
               (SELECT max(attempted_at) FROM delivery_attempts a WHERE a.subscription_id = s.id) AS last_attempt_at
        FROM subscriptions s {where} ORDER BY s.id""")
    return [_decode(dict(r), SUBSCRIPTION_JSON) for r in rows]


def active_subscriptions(pdb: Database, *, cadence: str | None = None) -> list[dict[str, Any]]:
    """Confirmed subscriptions that have not been ended, oldest first."""
    sql = "SELECT * FROM subscriptions WHERE confirmed = 1 AND unsubscribed_at IS NULL"
    params: list[Any] = []
    if cadence:
        sql += " AND cadence = ?"
        params.append(cadence)
    return [_decode(dict(r), SUBSCRIPTION_JSON) for r in pdb.query(sql + " ORDER BY id", params)]


def delivered_keys(pdb: Database, subscription_id: int, keys: list[str]) -> set[str]:
    """Which of ``keys`` (change keys) were already delivered to the subscription, under any change id."""
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        found |= {r[0] for r in pdb.execute(
            f"SELECT change_key FROM deliveries WHERE subscription_id = ? AND change_key IN ({','.join('?' * len(chunk))})",
            [subscription_id, *chunk])}
    return found


def record_attempt(pdb: Database, subscription_id: int, *, channel: str, change_ids: list[int], ok: bool,
                   now: str, status: str | None = None, error: str | None = None, duration_ms: int | None = None,
                   next_attempt_at: str | None = None, change_keys: list[str | None] | None = None) -> int:
    """Log one delivery attempt; when it succeeded, mark its changes delivered, all in one transaction.

    One row per (subscription, change id); ``change_keys`` record what each change was.
    """
    keys = change_keys if change_keys is not None else [None] * len(change_ids)
    with pdb.atomic():
        attempt_id = pdb["delivery_attempts"].insert({
            "subscription_id": subscription_id, "attempted_at": now, "channel": channel,
            "changes": len(change_ids), "change_ids": json.dumps(change_ids), "ok": int(ok), "status": status,
            "error": error, "duration_ms": duration_ms}).last_pk
        if ok:
            # a change id freed by the detector and reused for another change: the row now means the new one
            pdb.conn.executemany(
                """INSERT INTO deliveries (subscription_id, change_id, change_key, delivered_at, attempt_id)
                   VALUES (?,?,?,?,?) ON CONFLICT (subscription_id, change_id) DO UPDATE SET
                   change_key = excluded.change_key, delivered_at = excluded.delivered_at,
                   attempt_id = excluded.attempt_id""",
                [(subscription_id, cid, key, now, attempt_id) for cid, key in zip(change_ids, keys, strict=True)])
            pdb.execute("UPDATE subscriptions SET last_digest_at = ?, failures = 0, next_attempt_at = NULL WHERE id = ?",
                        [now, subscription_id])
        else:
            pdb.execute("UPDATE subscriptions SET failures = failures + 1, next_attempt_at = ? WHERE id = ?",
                        [next_attempt_at, subscription_id])
    return attempt_id


def delivery_attempts(pdb: Database, subscription_id: int | None = None) -> list[dict[str, Any]]:
    sql, params = "SELECT * FROM delivery_attempts", []
    if subscription_id is not None:
        sql, params = sql + " WHERE subscription_id = ?", [subscription_id]
    return [_decode(dict(r), ("change_ids",)) for r in pdb.query(sql + " ORDER BY id", params)]


# ---------------------------------------------------------------- changes (public, read only)

_CHANGE_SELECT = """
    SELECT ch.*, s.source_id AS source, s.title AS source_title, s.jurisdiction, s.kind AS document_kind,
           s.family AS source_family, s.url AS source_url, v.source_id AS via_source, v.title AS via_title,
           s.role AS source_role, rv.valid_from AS reverted_to_date,
           (SELECT c.tags FROM clauses c WHERE c.version_id = ch.new_version_id AND c.path = ch.new_path
            LIMIT 1) AS new_clause_tags,
           (SELECT c.tags FROM clauses c WHERE c.version_id = ch.old_version_id AND c.path = ch.old_path
            LIMIT 1) AS old_clause_tags
    FROM changes ch JOIN sources s ON s.id = ch.source_id LEFT JOIN sources v ON v.id = ch.via_source_id
    LEFT JOIN versions rv ON rv.id = ch.reverted_to_version_id
"""


def change_watermark(db: Database) -> int:
    """The highest version id with stored changes: a new subscriber receives only changes of later versions."""
    if not db["changes"].exists():
        return 0
    return db.execute("SELECT coalesce(max(new_version_id), 0) FROM changes").fetchone()[0]


def substantive_changes(db: Database, *, after_version_id: int = 0, newest_first: bool = False,
                        limit: int | None = None) -> list[dict[str, Any]]:
    """Alerting substantive changes of versions with id > ``after_version_id``, with their source (title, jurisdiction, document kind,
    family, role), the source they came through (``via_source``), the date of the version a flap returned
    to (``reverted_to_date``) and the tags of the changed clause before and after (``old_clause_tags``,
    ``new_clause_tags``). Only ``alert = 1``: a change announced once, after it persisted (see
    ``db.comparisons``), never again when a page flaps back and forth."""
    sql = (_CHANGE_SELECT + " WHERE ch.substantive = 1 AND ch.alert = 1 AND ch.new_version_id > ? ORDER BY ch.id"
           + (" DESC" if newest_first else ""))
    params: list[Any] = [after_version_id]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return [_decode(dict(r), CHANGE_JSON) for r in db.query(sql, params)]


def known_filter_values(db: Database) -> dict[str, set[str]]:
    """Families, jurisdictions and document kinds of the stored sources."""
    values: dict[str, set[str]] = {"family": set(), "jurisdiction": set(), "kind": set()}
    if not db["sources"].exists():
        return values
    for family, jurisdiction, kind in db.execute("SELECT family, jurisdiction, kind FROM sources"):
        for key, value in (("family", family), ("jurisdiction", jurisdiction), ("kind", kind)):
            if value:
                values[key].add(value)
    return values


# ---------------------------------------------------------------- web requests (private): rate limits

def record_web_request(pdb: Database, *, action: str, client_hash: str, address_hash: str | None,
                       now: str, forget_before: str) -> None:
    """Log one request of the public site's subscription form; forget requests older than ``forget_before``."""
    with pdb.atomic():
        pdb.execute("DELETE FROM web_requests WHERE at < ?", [forget_before])
        pdb["web_requests"].insert({"at": now, "action": action, "client_hash": client_hash,
                                    "address_hash": address_hash})


def web_request_counts(pdb: Database, *, action: str, since: str, client_hash: str,
                       address_hash: str | None) -> dict[str, int]:
    """How many ``action`` requests came since ``since``: in all, from this client, for this address."""
    row = pdb.execute(
        """SELECT count(*), coalesce(sum(client_hash = ?), 0), coalesce(sum(address_hash = ?), 0)
           FROM web_requests WHERE action = ? AND at >= ?""", [client_hash, address_hash, action, since]).fetchone()
    return {"all": row[0], "client": row[1], "address": row[2]}


def known_tags(db: Database) -> list[str]:
    """The tags stored on clauses, sorted."""
    if not db["clause_tags"].exists():
        return []
    return [row[0] for row in db.execute("SELECT DISTINCT tag FROM clause_tags ORDER BY tag")]
