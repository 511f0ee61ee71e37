"""The public site's only write path: subscribing from the web, confirming, unsubscribing.

Mounted beside Datasette by :mod:`clausewatch.web.app` (Datasette itself stays read-only and never
opens the private database). What this module may write, and nothing else:

- ``POST /-/subscribe``: one unconfirmed email subscription (double opt-in: nothing is delivered
  until the mailed link is confirmed) and one ``web_requests`` row for the rate limits;
- ``POST /-/subscriptions/confirm``: marks one subscription confirmed;
- ``POST /-/subscriptions/unsubscribe``: ends one subscription and erases its address.

Every ``GET`` only shows a page: mail link scanners and prefetchers follow links, so a link never
confirms or unsubscribes by itself. Form posts need the CSRF token of the page they came from (a
cookie and a hidden field that must match, double-submit, plus a same-origin check); the one exception
is the RFC 8058 one-click unsubscribe ``POST`` mail clients send (``List-Unsubscribe=One-Click``),
where the unguessable token in the link is the credential. The private database is opened for one
operation per request and closed again.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from clausewatch.web.asgi import Request, RequestTooLarge, page, read_request, send_response

SUBSCRIBE = "/-/subscribe"
CONFIRM = "/-/subscriptions/confirm"
UNSUBSCRIBE = "/-/subscriptions/unsubscribe"
PATHS = (SUBSCRIBE, CONFIRM, UNSUBSCRIBE)
CSRF_COOKIE = "cw_csrf"
_CSRF_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")

# rate limits of the web form (the command line has none: its user is the operator)
LIMIT_PER_CLIENT_HOUR = 5
LIMIT_PER_ADDRESS_DAY = 3
LIMIT_ALL_HOUR = 100


def _iso(moment: dt.datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


class SubscriptionPages:
    """ASGI app for :data:`PATHS`; ``public_path`` is the public database, ``private_path`` the private one."""

    def __init__(self, public_path: Path, private_path: Path) -> None:
        self.public_path, self.private_path = Path(public_path), Path(private_path)
        # hashes of client and email addresses in the rate-limit log use a key that lives only in this process
        self._hash_key = secrets.token_bytes(32)

    # ------------------------------------------------------------ ASGI

    async def __call__(self, scope: dict[str, Any], receive, send) -> None:
        try:
            request = await read_request(scope, receive)
        except RequestTooLarge:
            await send_response(send, 413, page("Too large", "<p>That request was too large.</p>"))
            return
        handler = {SUBSCRIBE: self.subscribe, CONFIRM: self.confirm, UNSUBSCRIBE: self.unsubscribe}[request.path]
        if request.method not in ("GET", "HEAD", "POST"):
            await send_response(send, 405, page("Not allowed", "<p>Use the form.</p>"), headers=[("allow", "GET, POST")])
            return
        status, body, headers = handler(request)
        await send_response(send, status, body, headers=headers)

    # ------------------------------------------------------------ CSRF

    def _csrf(self, request: Request) -> tuple[str, list[tuple[str, str]]]:
        """The page's CSRF token: the visitor's cookie if it has a good one, else a new cookie."""
        current = request.cookies.get(CSRF_COOKIE, "")
        if _CSRF_SHAPE.match(current):
            return current, []
        token = secrets.token_urlsafe(32)
        secure = "; Secure" if _public_url().startswith("https:") else ""
        return token, [("set-cookie", f"{CSRF_COOKIE}={token}; Path=/-/; HttpOnly; SameSite=Strict{secure}")]

    @staticmethod
    def _csrf_ok(request: Request) -> bool:
        cookie, field = request.cookies.get(CSRF_COOKIE, ""), request.arg("csrftoken")
        if not (cookie and field and hmac.compare_digest(cookie, field)):
            return False
        origin = request.headers.get("origin")
        if origin and origin != "null":
            host = request.headers.get("host", "")
            public = urlsplit(_public_url()).netloc
            if urlsplit(origin).netloc not in (host, public):
                return False
        return True

    @staticmethod
    def _refused() -> tuple[int, str, list]:
        return 403, page("Form expired", "<p>This form has expired or did not come from this site. "
                                         "Go back, reload the page and send it again.</p>"), []

    # ------------------------------------------------------------ subscribe

    def subscribe(self, request: Request) -> tuple[int, str, list]:
        csrf, cookie = self._csrf(request)
        if request.method != "POST":
            return 200, page("Subscribe to changes", self._form(csrf)), cookie
        if not self._csrf_ok(request):
            return self._refused()
        from clausewatch.digest.filters import SubscriptionError

        email = request.arg("email")
        filters = {key: request.args(key) for key in ("family", "tag", "kind", "jurisdiction")}
        cadence = request.arg("cadence") or "daily"
        limited = self._rate_limited(request, email)
        if limited:
            return 429, page("Too many requests", f"<p>{html.escape(limited)}</p>"), [("retry-after", "3600")]
        try:
            sub = self._create(email, filters, cadence)
        except SubscriptionError as exc:
            message = str(exc).replace("--", "")
            return 400, page("Subscribe to changes", f'<p class="error">{html.escape(message)}.</p>'
                             + self._form(csrf, email=email, chosen=filters, cadence=cadence)), cookie
        return 200, page("Check your mail", f"<p>We sent a confirmation link to <b>{html.escape(sub.address)}</b>. "
                         "Nothing is sent until you open it and press <b>Confirm</b>; without that, the request "
                         "is simply ignored.</p>"), cookie

    def _create(self, email: str, filters: dict[str, list[str]], cadence: str):
        from clausewatch.db import connect_private
        from clausewatch.digest.mailer import Mailer
        from clausewatch.digest.signup import subscribe

        pdb = connect_private(self.private_path)
        try:
            with Mailer() as mailer:
                return subscribe(pdb, self.public_path, channel="email", address=email, filters=filters,
                                 cadence=cadence, confirmed=False, mailer=mailer)
        finally:
            pdb.close()

    def _hash(self, value: str) -> str:
        return hmac.new(self._hash_key, value.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def _rate_limited(self, request: Request, email: str) -> str | None:
        """Why this request is over a limit (one line), or None; an accepted request is logged."""
        from clausewatch.db import connect_private
        from clausewatch.db.subscriptions import record_web_request, web_request_counts

        now = dt.datetime.now(dt.UTC)
        client, address = self._hash(request.client), self._hash(email) if email else None
        pdb = connect_private(self.private_path)
        try:
            hour = web_request_counts(pdb, action="subscribe", since=_iso(now - dt.timedelta(hours=1)),
                                      client_hash=client, address_hash=address)
            day = web_request_counts(pdb, action="subscribe", since=_iso(now - dt.timedelta(days=1)),
                                     client_hash=client, address_hash=address)
            if hour["client"] >= LIMIT_PER_CLIENT_HOUR:
                return "Too many subscription requests from your address in the last hour; try again later."
            if address and day["address"] >= LIMIT_PER_ADDRESS_DAY:
                return "This email address was sent several confirmation mails today; check its inbox."
            if hour["all"] >= LIMIT_ALL_HOUR:
                return "The site has had too many subscription requests in the last hour; try again later."
            record_web_request(pdb, action="subscribe", client_hash=client, address_hash=address, now=_iso(now),
                               forget_before=_iso(now - dt.timedelta(days=1)))
        finally:
            pdb.close()
        return None

    def _form(self, csrf: str, *, email: str = "", chosen: dict[str, list[str]] | None = None,
              cadence: str = "daily") -> str:
        from clausewatch.web.choices import filter_choices

        chosen = chosen or {}
        choices = filter_choices(self.public_path)
        parts = [f'<form method="post" action="{SUBSCRIBE}">',
                 f'<input type="hidden" name="csrftoken" value="{html.escape(csrf, quote=True)}">',
                 '<label for="email">Email address</label>',
                 f'<input id="email" name="email" type="email" required size="32" value="{html.escape(email, quote=True)}">',
                 '<p class="hint">Leave a list empty to receive every substantive change; pick several with '
                 'Ctrl or ⌘.</p>']
        for key, label in (("family", "Document families"), ("tag", "Topics"),
                           ("jurisdiction", "Jurisdictions"), ("kind", "Document kinds")):
            parts.append(f'<label for="{key}">{label}</label><select id="{key}" name="{key}" multiple size="6">')
            group = None
            for value, text, in_group in choices[key]:
                if in_group != group:
                    parts.append(("</optgroup>" if group else "")
                                 + (f'<optgroup label="{html.escape(in_group, quote=True)}">' if in_group else ""))
                    group = in_group
                selected = " selected" if value in chosen.get(key, []) else ""
                title = f' title="{html.escape(value, quote=True)}"' if text != value else ""
                parts.append(f'<option value="{html.escape(value, quote=True)}"{title}{selected}>'
                             f'{html.escape(text)}</option>')
            parts.append(("</optgroup>" if group else "") + "</select>")
        parts.append('<label>How often</label>')
        for value, text in (("immediate", "as soon as a change is found"), ("daily", "daily digest"),
                            ("weekly", "weekly digest (Mondays)")):
            checked = " checked" if value == cadence else ""
            parts.append(f'<div><input type="radio" id="cadence-{value}" name="cadence" value="{value}"{checked}> '
                         f'<label for="cadence-{value}" style="display:inline;font-weight:normal">{text}</label></div>')
        parts.append('<p><button type="submit">Subscribe</button></p></form>'
                     '<p class="hint">We send one confirmation mail; every digest has an unsubscribe link. Your '
                     'address is kept only in the private database, never published.</p>')
        return "".join(parts)

    # ------------------------------------------------------------ confirm / unsubscribe

    def confirm(self, request: Request) -> tuple[int, str, list]:
        from clausewatch.digest.signup import confirm

        csrf, cookie = self._csrf(request)
        token = request.arg("token")
        if request.method != "POST":
            return 200, page("Confirm your subscription", self._button(CONFIRM, token, csrf, "Confirm",
                             "Press the button to start receiving the digests you asked for.")), cookie
        if not self._csrf_ok(request):
            return self._refused()
        return self._with_private(confirm, token, done=("Subscription confirmed", "You will receive digests of "
                                  "the changes you subscribed to. Every digest has an unsubscribe link."),
                                  failed="Not confirmed")

    def unsubscribe(self, request: Request) -> tuple[int, str, list]:
        from clausewatch.digest.signup import unsubscribe

        csrf, cookie = self._csrf(request)
        token = request.arg("token")
        if request.method != "POST":
            return 200, page("Unsubscribe", self._button(UNSUBSCRIBE, token, csrf, "Unsubscribe",
                                                         "Stop receiving these digests?")), cookie
        one_click = request.form.get("List-Unsubscribe") == ["One-Click"]
        if not one_click and not self._csrf_ok(request):
            return self._refused()
        return self._with_private(unsubscribe, token, failed="Not unsubscribed",
                                  done=("Unsubscribed", "You will receive no more digests from this subscription."))

    @staticmethod
    def _button(action: str, token: str, csrf: str, label: str, question: str) -> str:
        return (f'<form method="post" action="{action}?token={html.escape(token, quote=True)}">'
                f'<input type="hidden" name="token" value="{html.escape(token, quote=True)}">'
                f'<input type="hidden" name="csrftoken" value="{html.escape(csrf, quote=True)}">'
                f'<p>{html.escape(question)}</p><button type="submit">{html.escape(label)}</button></form>')

    def _with_private(self, operation, token: str, *, done: tuple[str, str], failed: str) -> tuple[int, str, list]:
        from clausewatch.db import connect_private
        from clausewatch.digest.filters import SubscriptionError

        pdb = connect_private(self.private_path)
        try:
            operation(pdb, token)
        except SubscriptionError as exc:
            return 400, page(failed, f"<p>{html.escape(str(exc))}.</p>"), []
        finally:
            pdb.close()
        return 200, page(done[0], f"<p>{html.escape(done[1])}</p>"), []


def _public_url() -> str:
    from clausewatch.digest.links import public_url

    return public_url()
