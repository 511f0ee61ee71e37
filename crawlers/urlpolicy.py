"""Which URLs a crawl may fetch: never file:// or local/private addresses, except in replay mode or when
the operator allows it.

``CLAUSEWATCH_ALLOW_LOCAL`` (or ``allow_local`` in the ``[clausewatch]`` table of the config file) is
either ``1``/``true``/``yes`` (every local or private address may be crawled) or a comma-separated list of
``host`` or ``host:port`` entries (only those; e.g. ``intranet.example,10.0.0.7:8080``).

Two checks, so that neither a redirect nor a DNS answer can lead a crawl into the operator's network:

* :class:`crawlers.middlewares.UrlPolicyMiddleware` checks every request URL, redirect targets included
  (scheme, literal addresses, local names);
* :class:`PolicyResolver` checks every address a host name resolves to (``intranet.example`` ->
  ``10.0.0.7``, ``2130706433`` -> ``127.0.0.1``) before a connection is made.
"""
from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from scrapy.resolver import CachingThreadedResolver
from twisted.internet.error import ConnectError

LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}
ALLOW_ALL = frozenset({"*"})
_TRUE = {"1", "true", "yes", "on", "all", "*"}
_FALSE = {"", "0", "false", "no", "off", "none"}
HINT = "set CLAUSEWATCH_ALLOW_LOCAL=1 (or a list of host[:port]) to crawl it; replay mode is always allowed"


class LocalAddressRefused(ConnectError):
    """A host name that resolves to a local or private address the crawl may not reach."""


# host name -> why the resolver refused it. Twisted turns a resolver error into a plain "no results for
# hostname lookup", so the spider asks here why (one crawl per process: no need to expire entries).
_REFUSED: dict[str, str] = {}


def resolver_refusal(host: str | None) -> str | None:
    """Why :class:`PolicyResolver` refused to resolve ``host`` in this process (None if it did not)."""
    return _REFUSED.get(_normalise(host)) if host else None


def local_allowance(value: Any = None) -> frozenset[str]:
    """What may be crawled although local: ``ALLOW_ALL``, or a set of ``host`` / ``host:port`` entries.

    ``value`` is the configured value (str, bool or list); None reads ``CLAUSEWATCH_ALLOW_LOCAL``.
    """
    if value is None:
        value = os.environ.get("CLAUSEWATCH_ALLOW_LOCAL", "")
    if isinstance(value, bool):
        return ALLOW_ALL if value else frozenset()
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return ALLOW_ALL
        if text in _FALSE:
            return frozenset()
        value = text.replace(";", ",").split(",")
    return frozenset(str(entry).strip().lower().rstrip(".") for entry in value if str(entry).strip())


def local_allowed() -> bool:
    """True when every local address may be crawled (``CLAUSEWATCH_ALLOW_LOCAL=1``)."""
    return local_allowance() == ALLOW_ALL


def _normalise(host: str) -> str:
    return host.strip("[]").lower().rstrip(".")


_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not global, not "private" either


def is_local_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback, private, link-local (cloud metadata), unspecified, reserved, multicast or shared space."""
    mapped = getattr(ip, "ipv4_mapped", None) or getattr(ip, "sixtofour", None)
    if mapped is not None:
        ip = mapped
    if ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_unspecified or ip.is_reserved or ip.is_multicast:
        return True
    return isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED


def is_local_host(host: str) -> bool:
    """True for a local name (``localhost``) or a literal local, private, link-local or reserved address."""
    host = _normalise(host)
    if host in LOCAL_NAMES or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return is_local_ip(ip)


def _entry(entry: str) -> tuple[str, int | None]:
    """``host`` / ``host:port`` / ``[v6]:port`` / ``v6`` -> (host, port or None)."""
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    host, colon, port = entry.rpartition(":")
    if colon and port.isdigit() and ":" not in host:
        return host, int(port)
    return entry, None


def host_allowed(host: str, port: int | None, allowance: Iterable[str]) -> bool:
    """Whether ``host`` on ``port`` is in the allowance (``port`` None: listed at all, with or without a port)."""
    allowance = frozenset(allowance)
    if allowance == ALLOW_ALL:
        return True
    host = _normalise(host)
    return any(h == host and (p is None or port is None or p == port) for h, p in map(_entry, allowance))


def url_refusal(url: str, *, allow_local: Any = None) -> str | None:
    """Why a crawl must not fetch ``url`` (None when it may). ``allow_local`` as for :func:`local_allowance`."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"the URL is not valid ({exc})"
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme or '(none)'!r} is not fetched (http and https only)"
    if not parts.hostname:
        return "the URL has no host"
    allowance = local_allowance(allow_local)
    port = port or (443 if parts.scheme == "https" else 80)
    if host_allowed(parts.hostname, port, allowance):
        return None
    if is_local_host(parts.hostname):
        return f"{parts.hostname} is a local or private address; {HINT}"
    if host_allowed(parts.hostname, None, allowance):   # a name allowed on other ports only
        return f"{parts.hostname} is allowed on other ports only (CLAUSEWATCH_ALLOW_LOCAL)"
    return None


def address_refusal(host: str, address: str, allowance: Iterable[str]) -> str | None:
    """Why a connection to ``address`` (what ``host`` resolved to) is refused (None when it may be made).

    The port is not known here: a name listed with a port passes (the middleware checked its port); an
    address passes only when listed without a port, so ``2130706433:9999`` does not ride on ``127.0.0.1:80``.
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if not is_local_ip(ip) or host_allowed(host, None, allowance):
        return None
    if frozenset(allowance) != ALLOW_ALL and (str(ip), None) in set(map(_entry, allowance)):
        return None
    return f"{host} resolves to {address}, a local or private address; {HINT}"


class PolicyResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, refusing names that resolve to local or private addresses."""

    allowance: frozenset[str] = frozenset()

    @classmethod
    def from_crawler(cls, crawler, reactor):
        resolver = super().from_crawler(crawler, reactor)
        settings = crawler.settings
        resolver.allowance = (ALLOW_ALL if settings.getbool("CLAUSEWATCH_REPLAY")
                              else local_allowance(settings.get("CLAUSEWATCH_ALLOW_LOCAL")))
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()):  # noqa: N802 - Twisted's interface
        return super().getHostByName(name, timeout).addCallback(self._check, name)

    def _check(self, address: str, name: str) -> str:
        refusal = address_refusal(name, address, self.allowance)
        if refusal:
            _REFUSED[_normalise(name)] = refusal
            raise LocalAddressRefused(string=f"refused: {refusal}")
        return address
