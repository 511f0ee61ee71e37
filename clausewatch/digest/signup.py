"""Subscribing, confirming, unsubscribing: the operations the CLI and the site's subscription pages run."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from clausewatch.db import connect, now_iso
from clausewatch.db import subscriptions as store
from clausewatch.digest.addresses import AddressError, check_webhook_url, validate_email
from clausewatch.digest.filters import SubscriptionError, describe_filters, known_values, normalise_filters
from clausewatch.digest.links import confirm_url
from clausewatch.digest.tokens import find_by_token, hash_token, new_token

CHANNELS = ("email", "webhook", "feed")
CADENCES = ("immediate", "daily", "weekly")


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
    sub = find_by_token(pdb, token, ("manage", "unsubscribe"))
    if sub is None:
        raise SubscriptionError("this token matches no subscription (mistyped, or from another installation)")
    was_active = sub["unsubscribed_at"] is None
    store.end_subscription(pdb, sub["id"], now=now_iso())
    return store.get_subscription(pdb, sub["id"]), was_active
