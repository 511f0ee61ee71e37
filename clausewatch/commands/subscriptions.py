"""``clausewatch subscribe | subscriptions | confirm | unsubscribe | feed``: managing subscriptions."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from clausewatch.commands.database import open_private, public_path
from clausewatch.commands.options import db_option
from clausewatch.commands.output import fail, print_table


def _public(db: str | None) -> Path:
    return public_path(db, must_exist=False)


def _existing_private(db: str | None):
    pdb = open_private(db, create=False)
    if pdb is None:
        fail("no subscriptions yet: no private database beside "
             f"{_public(db)} (subscribe first, or give the right --db)")
    return pdb


def _token(value: str) -> str:
    """``-`` reads the token from stdin, keeping it out of shell history and the process list."""
    return sys.stdin.readline().strip() if value == "-" else value


def _shown(row: dict) -> str:
    from clausewatch.digest.addresses import mask_url

    if row["channel"] == "webhook":
        return mask_url(row["address"])
    return row["address"] or "(erased)"


@click.command()
@db_option
@click.option("--email", metavar="ADDR", help="Send digests to this address (double opt-in unless --confirmed).")
@click.option("--webhook", metavar="URL", help="POST signed JSON to this http(s) URL.")
@click.option("--feed", "feed_only", is_flag=True, help="No delivery: only an Atom feed (see `clausewatch feed`).")
@click.option("--family", multiple=True, metavar="F", help="Only this document family (repeatable).")
@click.option("--tag", multiple=True, metavar="T", help="Only changes touching this tag or its sub-tags (repeatable).")
@click.option("--kind", multiple=True, metavar="K",
              help="Document kind (license, use-policy, ...) or change kind (added, removed, modified, moved).")
@click.option("--jurisdiction", multiple=True, metavar="J", help="global, EU, US, US-CA ... (repeatable).")
@click.option("--cadence", type=click.Choice(["immediate", "daily", "weekly"]), default="daily", show_default=True)
@click.option("--confirmed", is_flag=True, help="Operator: the address owner agreed already; send no confirmation mail.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def subscribe(db, email, webhook, feed_only, family, tag, kind, jurisdiction, cadence, confirmed, fmt) -> None:
    """Subscribe an email address, a webhook or an Atom feed to substantive changes."""
    from clausewatch.digest.filters import SubscriptionError, describe_filters
    from clausewatch.digest.mailer import Mailer
    from clausewatch.digest.signup import subscribe as create

    chosen = [name for name, value in (("--email", email), ("--webhook", webhook), ("--feed", feed_only)) if value]
    if len(chosen) != 1:
        fail("give exactly one of --email ADDR, --webhook URL or --feed")
    channel = {"--email": "email", "--webhook": "webhook", "--feed": "feed"}[chosen[0]]
    public = _public(db)
    filters = {"family": family, "tag": tag, "kind": kind, "jurisdiction": jurisdiction}
    try:
        with Mailer() as mailer:
            sub = create(open_private(db), public, channel=channel, address=email or webhook or "", filters=filters,
                         cadence=cadence, confirmed=confirmed, mailer=mailer)
    except SubscriptionError as exc:
        fail(str(exc))
    if fmt == "json":
        click.echo(json.dumps({"id": sub.id, "channel": sub.channel, "address": sub.address, "filters": sub.filters,
                               "cadence": sub.cadence, "confirmed": sub.confirmed, "token": sub.token,
                               "secret": sub.secret}))
        return
    click.echo(f"subscription #{sub.id}: {sub.channel} {_shown(vars(sub))}, {sub.cadence}, "
               f"{describe_filters(sub.filters)}")
    click.echo(f"token: {sub.token}")
    click.echo("  (unsubscribes and opens the Atom feed; it is shown only now and stored hashed)")
    if sub.secret:
        click.echo(f"signing secret: {sub.secret}")
        click.echo("  (verify X-Clausewatch-Signature: sha256=HMAC-SHA256(secret, body); shown only now)")
    if not sub.confirmed:
        click.echo(f"confirmation mail sent to {sub.address}: nothing is delivered until its link is opened")


@click.command()
@db_option
@click.option("--all", "show_all", is_flag=True, help="Include ended subscriptions.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def subscriptions(db, show_all, fmt) -> None:
    """List subscriptions with their delivery state (tokens and secrets are never shown)."""
    from clausewatch.db.subscriptions import list_subscriptions
    from clausewatch.digest.filters import describe_filters

    pdb = open_private(db, create=False)
    rows = list_subscriptions(pdb, include_ended=show_all) if pdb is not None else []
    for row in rows:
        row["address"] = _shown(row)
        row["status"] = ("ended" if row["unsubscribed_at"] else "active" if row["confirmed"] else "unconfirmed")
    if fmt == "json":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    table = [(r["id"], r["channel"], r["address"], r["cadence"], r["status"], describe_filters(r["filters"]),
              r["delivered"], r["failures"], (r["last_digest_at"] or "-")[:16], (r["next_attempt_at"] or "-")[:16])
             for r in rows]
    headers = ["id", "channel", "address", "cadence", "status", "filters", "delivered", "failures", "last digest",
               "retry at"]
    print_table(headers, table, rule=False)
    click.echo(f"{len(rows)} subscriptions")


@click.command()
@db_option
@click.argument("token")
def confirm(db, token) -> None:
    """Confirm an email subscription with the token from its confirmation mail (``-``: read from stdin)."""
    from clausewatch.digest.filters import SubscriptionError
    from clausewatch.digest.signup import confirm as do_confirm

    try:
        sub = do_confirm(_existing_private(db), _token(token))
    except SubscriptionError as exc:
        fail(str(exc))
    click.echo(f"subscription #{sub['id']} confirmed: digests will be sent to {sub['address']}")


@click.command()
@db_option
@click.argument("token")
def unsubscribe(db, token) -> None:
    """End a subscription (token from `subscribe` or from a digest's unsubscribe link; ``-``: stdin)."""
    from clausewatch.digest.filters import SubscriptionError
    from clausewatch.digest.signup import unsubscribe as do_unsubscribe

    try:
        sub, was_active = do_unsubscribe(_existing_private(db), _token(token))
    except SubscriptionError as exc:
        fail(str(exc))
    if was_active:
        click.echo(f"subscription #{sub['id']} ended: nothing more will be sent; its address was erased")
    else:
        click.echo(f"subscription #{sub['id']} had already ended")


@click.command()
@db_option
@click.argument("token")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Write to FILE (default: stdout).")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
def feed(db, token, output, limit) -> None:
    """Print (or write) the Atom feed of the subscription the token belongs to."""
    from clausewatch.db import connect
    from clausewatch.digest.feed import subscription_feed, write_atomic
    from clausewatch.digest.tokens import find_by_token

    public = _public(db)
    sub = find_by_token(_existing_private(db), _token(token), ("manage",))
    if sub is None or sub["unsubscribed_at"]:
        fail("this token matches no active subscription")
    if not public.exists():
        fail(f"{public}: no database yet; run `clausewatch crawl` first")
    xml = subscription_feed(connect(public, readonly=True), sub, limit=limit)
    if output:
        write_atomic(Path(output), xml)
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(xml, nl=False)

