"""``clausewatch models``: open-weight models and the tracked licences their Hugging Face cards link to.

- ``clausewatch models`` lists them (``--fails CRITERION``: only models whose licence fails it, e.g.
  ``--fails no_output_restriction``: the models under a licence that restricts the use of outputs;
  ``--flagged``: cards whose LICENSE text is another licence);
- ``clausewatch models crawl [--replay DIR]`` fetches the model API answers (and the LICENSE and README they
  link) of the models declared in ``crawlers/models/*.yaml``, then links them.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from clausewatch.commands.database import open_public, public_path
from clausewatch.commands.options import db_option, quiet_option
from clausewatch.commands.output import EXIT_ERROR, fail, print_table


def listing(db, families: tuple[str, ...], fails: tuple[str, ...], flagged: bool) -> list[dict[str, Any]]:
    where, params = [], []
    if families:
        where.append(f"family IN ({','.join('?' * len(families))})")
        params += list(families)
    if flagged:
        where.append("flag IS NOT NULL")
    for criterion in fails:
        where.append("model_id IN (SELECT model_id FROM model_criteria WHERE criterion = ? AND verdict = 'fail')")
        params.append(criterion)
    sql = "SELECT * FROM model_licences" + (" WHERE " + " AND ".join(where) if where else "")
    return list(db.query(sql + " ORDER BY family, repo_id", params))


@click.group(invoke_without_command=True)
@db_option
@click.option("--family", "families", multiple=True, metavar="F", help="Only this model family (repeatable).")
@click.option("--fails", "fails", multiple=True, metavar="CRITERION",
              help="Only models whose licence fails this criterion (e.g. no_output_restriction; repeatable).")
@click.option("--flagged", is_flag=True, help="Only models whose card and LICENSE text disagree.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.pass_context
def models(ctx: click.Context, db: str | None, families: tuple[str, ...], fails: tuple[str, ...], flagged: bool,
           fmt: str) -> None:
    """Open-weight models, the tracked licence each card links to, and how open it is."""
    ctx.ensure_object(dict)["db"] = db
    if ctx.invoked_subcommand:
        return
    if fails:
        from clausewatch.openness import CRITERIA

        bad = [c for c in fails if c not in CRITERIA]
        if bad:
            fail(f"--fails {bad[0]!r} is not a criterion (one of {', '.join(CRITERIA)})")
    database = open_public(db, hint="run `clausewatch models crawl` first")
    if not database["models"].exists() or not database.execute("SELECT count(*) FROM models").fetchone()[0]:
        fail("no model is stored yet (run `clausewatch models crawl`)")
    rows = listing(database, families, fails, flagged)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    print_table(["family", "model", "card licence", "tracked licence", "class", "spectrum", "flag"],
                [[r["family"], r["repo_id"], r["card_license_name"] or r["card_license"] or "-",
                  r["licence"] or "-", r["class_label"] or "-", r["openness_level"] or "-",
                  "FLAG" if r["flag"] else ""] for r in rows])
    click.echo(f"\n{len(rows)} models" + (f"; {sum(1 for r in rows if r['flag'])} flagged (--format json: why)"
                                          if any(r["flag"] for r in rows) else ""))


@models.command("crawl")
@click.option("--replay", type=click.Path(file_okay=False), default=None,
              help="Serve saved Hub answers from this folder (with a MANIFEST.yaml) instead of the web.")
@click.option("--family", "families", multiple=True, metavar="F", help="Only this model family (repeatable).")
@click.option("--model", "repos", multiple=True, metavar="REPO", help="Only this model (ORG/NAME, repeatable).")
@quiet_option
@click.pass_context
def crawl(ctx: click.Context, replay: str | None, families: tuple[str, ...], repos: tuple[str, ...],
          quiet: bool) -> None:
    """Fetch the model cards of the declared models (politely) and link them to tracked licences."""
    from clausewatch.stages.models import ModelCrawlError, crawl_models

    path = public_path(ctx.obj.get("db"), must_exist=False)
    if replay and not (Path(replay) / "MANIFEST.yaml").is_file():
        fail(f"{replay}: not a replay folder (no MANIFEST.yaml)")
    try:
        result = crawl_models(path, replay_dir=Path(replay) if replay else None, families=list(families) or None,
                              repos=list(repos) or None, progress=not quiet)
    except ModelCrawlError as exc:
        fail(str(exc))
    click.echo(f"models: {result['models']} fetched in {result['seconds']} s; {result['linked']} linked to a tracked "
               f"licence, {result['unlinked']} not, {result['flagged']} flagged; {len(result['failing'])} failing"
               + (f" ({', '.join(result['failing'][:5])})" if result["failing"] else ""), err=True)
    if result["failing"] and len(result["failing"]) == result["models"]:
        sys.exit(EXIT_ERROR)
