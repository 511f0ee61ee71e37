"""Subscription tokens: 256 random bits, stored as their SHA-256, compared in constant time.

The token printed at subscribe time (purpose ``manage``) unsubscribes and reads the subscription's feed;
it never confirms an email subscription: only the token mailed to the address does (double opt-in),
and that one confirms and nothing else.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from sqlite_utils import Database

from clausewatch.db import subscriptions as store

TOKEN_BYTES = 32
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,100}$")


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
