"""``clausewatch digest``: deliver the due digests (email, webhook, feeds)."""
from __future__ import annotations

import sys

import click

from clausewatch.commands.database import public_path
from clausewatch.commands.options import db_option, quiet_option
from clausewatch.commands.output import EXIT_ERROR, fail
from clausewatch.config import private_db_path


@click.command()
@db_option
@click.option("--dry-run", is_flag=True, help="Print what would be sent; send nothing, mark nothing.")
@click.option("--cadence", type=click.Choice(["immediate", "daily", "weekly"]), default=None,
              help="Only subscriptions with this cadence.")
@click.option("--retry-now", is_flag=True, help="Retry failed deliveries now instead of after their backoff.")
@quiet_option
def digest(db, dry_run, cadence, retry_now, quiet) -> None:
    """Send each due subscriber the substantive changes matching its filters that it has not received."""
    from clausewatch.digest.filters import SubscriptionError
    from clausewatch.digest.run import DigestError, run_digest

    public = public_path(db, must_exist=False)
    private = private_db_path(public)

    def show(o) -> None:
        n = f"{len(o.changes)} change{'s' if len(o.changes) != 1 else ''}"
        who = f"#{o.subscription_id} {o.channel} {o.recipient}"
        if o.ok is False:
            click.echo(f"FAILED {who}: {o.error}; retry after {o.next_attempt_at}", err=True)
            return
        if quiet:
            return
        more = f" (+{o.more} next time)" if o.more else ""
        click.echo(f"{'would send' if o.ok is None else 'sent'} {n}{more} to {who}"
                   + (f" ({o.status})" if o.status else ""))
        if o.ok is None:
            for c in o.changes:
                click.echo(f"    {c['source']} › {c.get('new_path') or c.get('old_path')} — {c['kind']}")

    try:
        report = run_digest(public, private, dry_run=dry_run, cadence=cadence, retry_now=retry_now, progress=show)
    except (DigestError, SubscriptionError) as exc:
        fail(str(exc))
    verb = "would send" if dry_run else "sent"
    feeds = f", {report.feeds} feeds written" if report.feeds else ""
    click.echo(f"digest{' (dry run)' if dry_run else ''}: {report.due} subscriptions due, "
               f"{verb} {sum(1 for o in report.outcomes if o.ok is not False)} digests "
               f"({report.changes} changes), {report.failed} failed{feeds}", err=True)
    if report.failed:
        sys.exit(EXIT_ERROR)
