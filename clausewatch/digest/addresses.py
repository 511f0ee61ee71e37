"""Where a digest may go: email addresses that cannot inject headers, webhook URLs that cannot reach
the operator's own network (SSRF) unless the operator allows it."""
from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

from clausewatch.config import setting


class AddressError(ValueError):
    """An email address or webhook URL that is refused, with a one-line reason for people."""


# dot-atom local part (RFC 5322 without quoted strings or comments) and a hostname with a dot
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def validate_email(address: str, *, dotted_domain: bool = True) -> str:
    """The address, stripped, when it is one plain ``local@domain`` address; else :class:`AddressError`.

    A subscriber's domain must have a dot; ``dotted_domain=False`` accepts ``clausewatch@localhost``
    (a sender on the operator's own host)."""
    shown = address if len(address) < 80 else address[:77] + "..."
    if any(ch in address for ch in "\r\n\0"):
        raise AddressError(f"{shown!r} is not an email address: it contains a line break (header injection refused)")
    address = address.strip()
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in address):
        raise AddressError(f"{shown!r} is not an email address: it contains control characters")
    if any(ch in address for ch in " ,;<>()[]\"\\:"):
        raise AddressError(f"{shown!r} is not an email address: give one bare address like name@example.org, "
                           "without a display name, spaces, commas or brackets")
    if address.count("@") != 1:
        raise AddressError(f"{shown!r} is not an email address: it needs exactly one '@'")
    local, domain = address.split("@")
    if not local or len(local) > 64 or not _LOCAL.match(local):
        raise AddressError(f"{shown!r} is not an email address: the part before '@' is not valid")
    try:
        ascii_domain = domain.encode("idna").decode("ascii") if domain else ""
    except UnicodeError:
        raise AddressError(f"{shown!r} is not an email address: the domain is not valid") from None
    labels = ascii_domain.rstrip(".").split(".")
    if len(labels) < (2 if dotted_domain else 1) or not all(_LABEL.match(label) for label in labels):
        raise AddressError(f"{shown!r} is not an email address: the domain {domain!r} is not valid")
    address = f"{local}@{ascii_domain}"   # ASCII on the wire and in headers
    if len(address) > 254:
        raise AddressError(f"{shown!r} is not an email address: longer than 254 characters")
    return address


def mask_email(address: str) -> str:
    """``j***@example.org``: enough for an operator to recognise, not enough to leak a subscriber in logs."""
    if "@" not in address:
        return "(erased)" if not address else "***"
    local, domain = address.split("@", 1)
    return f"{local[:1]}***@{domain}"


def mask_url(url: str) -> str:
    """``https://hooks.example.org/…``: webhook paths often carry secrets, so they are never shown."""
    parts = urlsplit(url)
    if not parts.hostname:
        return "(erased)" if not url else "***"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}/…"


def webhook_local_allowed() -> bool:
    value = setting("webhook_allow_local", False)
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def ip_refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why a webhook must not connect to ``ip`` (None when it is a public address)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for label, flag in (("loopback", ip.is_loopback), ("unspecified", ip.is_unspecified),
                        ("link-local", ip.is_link_local), ("multicast", ip.is_multicast),
                        ("private", ip.is_private), ("reserved", ip.is_reserved)):
        if flag:
            return f"a {label} address"
    if not ip.is_global:
        return "not a public address"
    return None


def check_webhook_url(url: str, *, allow_local: bool | None = None, resolve: bool = True) -> str:
    """The URL when a webhook may be posted to it; else :class:`AddressError`.

    Only http and https; no credentials in the URL; loopback, private, link-local and other non-public
    targets are refused (by name, by literal address and, with ``resolve``, by every address the name
    resolves to) unless ``allow_local`` (default: the ``webhook_allow_local`` setting).
    """
    url = url.strip()
    if any(ord(ch) < 33 for ch in url):
        raise AddressError(f"{url[:80]!r}: a webhook URL cannot contain spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise AddressError(f"{url[:80]}: webhook URLs must be http or https, not {parts.scheme or '(none)'!r}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise AddressError(f"{url[:80]}: the port is not a number") from None
    if not host:
        raise AddressError(f"{url[:80]}: the URL has no host")
    if parts.username or parts.password:
        raise AddressError(f"{mask_url(url)}: credentials in a webhook URL are not supported; "
                           "requests are signed with the subscription's secret instead")
    allow = webhook_local_allowed() if allow_local is None else allow_local
    if allow:
        return url
    hint = "set webhook_allow_local = true (or CLAUSEWATCH_WEBHOOK_ALLOW_LOCAL=1) to allow it"
    name = host.lower().rstrip(".")
    if name in LOCAL_NAMES or name.endswith(".localhost"):
        raise AddressError(f"{mask_url(url)}: {host} is a local host name; {hint}")
    try:
        literal = ipaddress.ip_address(name)
    except ValueError:
        literal = None
    if literal is not None:
        reason = ip_refusal(literal)
        if reason:
            raise AddressError(f"{mask_url(url)}: {host} is {reason}; {hint}")
        return url
    if resolve:
        for ip in resolve_host(host, port or (443 if parts.scheme == "https" else 80)):
            reason = ip_refusal(ip)
            if reason:
                raise AddressError(f"{mask_url(url)}: {host} resolves to {ip}, {reason}; {hint}")
    return url


def resolve_host(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address ``host`` resolves to; :class:`AddressError` when it does not resolve."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise AddressError(f"cannot resolve webhook host {host}: {exc}") from None
    seen: list = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if ip not in seen:
            seen.append(ip)
    return seen


def connect_addresses(url: str, *, allow_local: bool | None = None) -> list[str]:
    """The addresses a webhook POST may connect to, checked at delivery time (DNS may have changed since
    subscribing). The caller connects to these very addresses, so a second lookup cannot swap them."""
    check_webhook_url(url, allow_local=allow_local, resolve=False)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    allow = webhook_local_allowed() if allow_local is None else allow_local
    ips = resolve_host(parts.hostname, port)
    if not allow:
        for ip in ips:
            reason = ip_refusal(ip)
            if reason:
                raise AddressError(f"{mask_url(url)}: {parts.hostname} resolves to {ip}, {reason}; "
                                   "set webhook_allow_local = true (or CLAUSEWATCH_WEBHOOK_ALLOW_LOCAL=1) to allow it")
    return [str(ip) for ip in ips]
