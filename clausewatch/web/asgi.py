"""Just enough ASGI for the few pages the public site serves outside Datasette: requests and responses."""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

MAX_FORM_BYTES = 16 * 1024


class RequestTooLarge(Exception):
    """A request body over :data:`MAX_FORM_BYTES`."""


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    client: str
    form: dict[str, list[str]] = field(default_factory=dict)

    @property
    def cookies(self) -> dict[str, str]:
        jar = SimpleCookie()
        try:
            jar.load(self.headers.get("cookie", ""))
        except Exception:  # noqa: BLE001 - a malformed Cookie header is no cookie
            return {}
        return {k: m.value for k, m in jar.items()}

    def arg(self, name: str) -> str:
        """A form field (POST) or query parameter, first value, stripped."""
        values = self.form.get(name)
        if values:
            return values[0].strip()
        return self.query.get(name, "").strip()

    def args(self, name: str) -> list[str]:
        return [v.strip() for v in self.form.get(name, []) if v.strip()]


def _first(values: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in values.items() if v}


async def read_request(scope: dict[str, Any], receive) -> Request:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    client = (scope.get("client") or ("unknown", 0))[0]
    request = Request(scope.get("method", "GET"), scope.get("path", "/"),
                      _first(parse_qs(scope.get("query_string", b"").decode("latin-1"))), headers, client)
    if request.method == "POST":
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_FORM_BYTES:
                raise RequestTooLarge
            if not message.get("more_body"):
                break
        if headers.get("content-type", "").split(";")[0].strip() in ("application/x-www-form-urlencoded", ""):
            request.form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return request


async def send_response(send, status: int, body: str, *, content_type: str = "text/html; charset=utf-8",
                        headers: list[tuple[str, str]] = ()) -> None:
    raw = body.encode("utf-8")
    head = [(b"content-type", content_type.encode()), (b"content-length", str(len(raw)).encode()),
            (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]
    head += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": raw})


PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} · clausewatch</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/clausewatch.css">
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#222}}
button{{font-size:1rem;padding:.5rem 1rem}} label{{display:block;margin:.8rem 0 .2rem;font-weight:600}}
select,input{{font-size:1rem;max-width:100%;box-sizing:border-box}} .hint{{color:#555;font-size:.9rem}}
.error{{color:#a40e26}}</style></head><body><h1>{title}</h1>{body}
<p><a href="/">clausewatch</a></p></body></html>"""


def page(title: str, body_html: str) -> str:
    """A short page; ``body_html`` must already be escaped."""
    return PAGE.format(title=html.escape(title), body=body_html)
