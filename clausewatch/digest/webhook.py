"""Webhook delivery: a JSON POST signed with HMAC-SHA256 (``X-Clausewatch-Signature: sha256=<hex>``).

Redirects are never followed (a 3xx is a failed delivery), and the connection goes to an address checked
against the SSRF policy at send time, so neither a redirect nor a DNS change can reach a private network.
"""
from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import socket
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

from clausewatch import __version__
from clausewatch.config import setting
from clausewatch.digest.addresses import AddressError, connect_addresses, mask_url

SIGNATURE_HEADER = "X-Clausewatch-Signature"
DELIVERY_HEADER = "X-Clausewatch-Delivery"
MAX_RESPONSE_BYTES = 64 * 1024


class WebhookError(RuntimeError):
    """A webhook that was refused or did not answer 2xx (one line, URL path masked)."""


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver does: recompute the signature over the raw body and compare in constant time."""
    return bool(header) and hmac.compare_digest(sign(secret, body), header.strip())


def change_payload(change: dict[str, Any], link: str | None) -> dict[str, Any]:
    keys = ("id", "source", "source_title", "family", "jurisdiction", "document_kind", "scope", "kind",
            "old_path", "new_path", "old_text", "new_text", "word_diff", "tags_added", "tags_removed",
            "entity_changes", "via_source", "detected_at", "effective_date", "old_version_id", "new_version_id")
    out = {k: change.get(k) for k in keys}
    if change.get("kind") == "rating":  # an openness verdict changed (issue 18)
        out.update({k: change.get(k) for k in ("criterion", "criterion_label", "old_verdict", "new_verdict",
                                                "old_detail", "new_detail", "old_class", "new_class",
                                                "new_reason", "licence_new_version_id")})
    out["key"] = change.get("key")
    out["url"] = link
    return out


def payload(*, subscription_id: int, delivery_id: str, sent_at: str, changes: list[dict[str, Any]],
            links: dict[int, str], filters: dict[str, list[str]], more: int = 0) -> bytes:
    body = {"event": "changes", "delivery": delivery_id, "subscription": subscription_id, "sent_at": sent_at,
            "filters": filters, "more": more,
            "changes": [change_payload(c, links.get(c["id"])) for c in changes]}
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode("utf-8")


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout,
                         context=ssl.create_default_context(cafile=setting("webhook_cafile") or None))
        self._ip = ip

    def connect(self) -> None:
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post(url: str, body: bytes, *, secret: str, delivery_id: str, timeout: float = 15.0,
         allow_local: bool | None = None) -> str:
    """POST ``body`` to ``url``; returns the status line on 2xx, raises :class:`WebhookError` otherwise."""
    shown = mask_url(url)
    try:
        addresses = connect_addresses(url, allow_local=allow_local)
    except AddressError as exc:
        raise WebhookError(f"webhook refused: {exc}") from None
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": f"clausewatch/{__version__}",
               SIGNATURE_HEADER: sign(secret, body), DELIVERY_HEADER: delivery_id,
               "X-Clausewatch-Event": "changes"}
    cls = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    last_error = "no address"
    for ip in addresses:
        conn = cls(parts.hostname, port, ip, timeout)
        started = time.monotonic()
        try:
            conn.request("POST", target, body=body, headers=headers)
            response = conn.getresponse()
            response.read(MAX_RESPONSE_BYTES)
            status, reason = response.status, response.reason
            location = response.getheader("Location")
        except (OSError, http.client.HTTPException) as exc:
            kind = "timed out" if isinstance(exc, TimeoutError | socket.timeout) else \
                " ".join(str(exc).split())[:160] or type(exc).__name__
            last_error = f"webhook {shown} ({ip}): {kind} after {time.monotonic() - started:.1f} s"
            continue
        finally:
            conn.close()
        if 200 <= status < 300:
            return f"{status} {reason}".strip()
        if 300 <= status < 400:
            where = f" to {mask_url(location)}" if location else ""
            raise WebhookError(f"webhook {shown} answered {status} (redirect{where}); redirects are not "
                               "followed: subscribe the final URL instead")
        raise WebhookError(f"webhook {shown} answered {status} {reason}".strip())
    raise WebhookError(last_error)
