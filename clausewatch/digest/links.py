"""The links mails and feeds carry: confirm, unsubscribe, a change on the public site."""
from __future__ import annotations

from clausewatch.config import setting
from clausewatch.web.datasette_app import DATABASE_NAME

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8001"


def public_url() -> str:
    return str(setting("public_url") or DEFAULT_PUBLIC_URL).rstrip("/")


def confirm_url(token: str) -> str:
    return f"{public_url()}/-/subscriptions/confirm?token={token}"


def unsubscribe_url(token: str) -> str:
    return f"{public_url()}/-/subscriptions/unsubscribe?token={token}"


def item_url(change: dict) -> str:
    """A clause change's row, or the openness page of a rating change (digest items of kind ``rating``)."""
    if change.get("link_path"):
        return f"{public_url()}{change['link_path']}"
    return change_url(change["id"])


def change_url(change_id: int) -> str:
    """The change's row in the public Datasette (which serves the public database as ``clausewatch``)."""
    return f"{public_url()}/{DATABASE_NAME}/changes/{change_id}"
