"""Which URLs a crawl may fetch: never file:// or local/private addresses, except in replay mode or
when the operator allows it (env CLAUSEWATCH_ALLOW_LOCAL=1 or ``allow_local = true`` in the config)."""
from __future__ import annotations

import ipaddress
import os
from urllib.parse import urlsplit

LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def local_allowed() -> bool:
    return os.environ.get("CLAUSEWATCH_ALLOW_LOCAL", "").lower() in ("1", "true", "yes")


def is_local_host(host: str) -> bool:
    host = host.strip("[]").lower().rstrip(".")
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_unspecified or ip.is_reserved


def url_refusal(url: str, *, allow_local: bool | None = None) -> str | None:
    """Why a crawl must not fetch ``url`` (None when it may)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme or '(none)'!r} is not fetched (http and https only)"
    if not parts.hostname:
        return "the URL has no host"
    allow = local_allowed() if allow_local is None else allow_local
    if not allow and is_local_host(parts.hostname):
        return (f"{parts.hostname} is a local or private address; set CLAUSEWATCH_ALLOW_LOCAL=1 to crawl it "
                "(replay mode is always allowed)")
    return None
