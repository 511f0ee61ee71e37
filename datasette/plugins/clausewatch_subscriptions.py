"""The two links of subscription mails: confirm (double opt-in) and unsubscribe (RFC 8058 one-click).

The private database (subscriptions, tokens) is never attached to Datasette: these handlers open it
themselves for one token operation, and answer with a short page that shows no subscription data
beyond whether the operation worked. ``GET .../unsubscribe`` only shows a button (link scanners must
not unsubscribe people); the button and mail clients' one-click ``POST`` end the subscription.
"""
from __future__ import annotations

import html

from datasette import hookimpl
from datasette.utils.asgi import Response

CONFIRM = "/-/subscriptions/confirm"
UNSUBSCRIBE = "/-/subscriptions/unsubscribe"
PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} · clausewatch</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#222}}
button{{font-size:1rem;padding:.5rem 1rem}}</style></head><body><h1>{title}</h1>{body}
<p><a href="/">clausewatch</a></p></body></html>"""


def _page(title: str, body: str, status: int = 200) -> Response:
    return Response.html(PAGE.format(title=html.escape(title), body=body), status=status)


def _with_token(datasette, request, operation, *, done: tuple[str, str], failed: str) -> Response:
    """Run ``operation(private_db, token)`` and answer with a short page; the private database is opened
    for this one operation only."""
    from clausewatch.db import connect_private
    from clausewatch.digest.subscriptions import SubscriptionError

    path = getattr(datasette, "clausewatch_private_db", None)
    if not path:
        return _page("Not available", "<p>Subscriptions are not managed by this instance.</p>", 404)
    pdb = connect_private(path)
    try:
        operation(pdb, request.args.get("token", ""))
    except SubscriptionError as exc:
        return _page(failed, f"<p>{html.escape(str(exc))}.</p>", 400)
    finally:
        pdb.close()
    return _page(done[0], f"<p>{done[1]}</p>")


async def confirm(datasette, request):
    from clausewatch.digest.subscriptions import confirm as confirm_token

    return _with_token(datasette, request, confirm_token, failed="Not confirmed", done=(
        "Subscription confirmed",
        "You will receive digests of the changes you subscribed to. Every digest has an unsubscribe link."))


async def unsubscribe(datasette, request):
    from clausewatch.digest.subscriptions import unsubscribe as end

    if request.method != "POST":
        action = html.escape(f"{UNSUBSCRIBE}?token={request.args.get('token', '')}", quote=True)
        return _page("Unsubscribe", f'<form method="post" action="{action}"><p>Stop receiving these digests?'
                     '</p><button type="submit">Unsubscribe</button></form>')
    return _with_token(datasette, request, end, failed="Not unsubscribed",
                       done=("Unsubscribed", "You will receive no more digests from this subscription."))


@hookimpl
def register_routes():
    return [(r"^/-/subscriptions/confirm$", confirm), (r"^/-/subscriptions/unsubscribe$", unsubscribe)]


@hookimpl
def skip_csrf(scope):
    # the one-click POST comes from mail clients without a CSRF cookie; the token is the credential
    return scope.get("path") == UNSUBSCRIBE
