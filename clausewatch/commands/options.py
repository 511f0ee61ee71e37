"""Options and argument checks shared by the commands."""
from __future__ import annotations

import datetime as dt

import click

db_option = click.option("--db", "db", envvar="CLAUSEWATCH_DB", default=None, show_envvar=True,
                         help="Path of the SQLite database (default: data/clausewatch.db); the private "
                              "database (subscriptions) lies beside it unless private_db is set.")
quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress output.")
source_option = click.option("--source", "source_ids", multiple=True, metavar="ID",
                             help="Only this source (repeatable).")


def iso_day(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A ``YYYY-MM-DD`` option value, checked."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None
