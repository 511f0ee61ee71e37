"""``clausewatch openness``: how open is each licence, and why not (the stored ratings, or a file rated now).

- no argument: the matrix of every tracked licence (its current effective rating), one column per criterion;
- ``SOURCE`` or ``SOURCE@latest|YYYY-MM-DD|VERSION_ID``: one rating, every criterion with its reason and the
  clauses that decide it; ``--history`` adds every rating state of the source and the verdict changes;
- ``FILE`` (``--policy FILE`` for what it incorporates): the same rating made now from the file's text.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import click

from clausewatch.commands.database import open_public
from clausewatch.commands.options import db_option
from clausewatch.commands.output import fail, print_table

STORED = re.compile(r"^(?P<source>[a-z0-9][a-z0-9.\-]*[a-z0-9])(?:@(?P<which>[^@/\\]+))?$")
MARKS = {"pass": "pass", "conditional": "cond", "fail": "FAIL", "unknown": "?"}


def _rules():
    from clausewatch.stages.rate import load_rules

    return load_rules()


def _criterion_json(row: dict[str, Any], rules) -> dict[str, Any]:
    crit = rules.criteria.get(row["criterion"])
    evidence = row.get("evidence") or []
    return {"criterion": row["criterion"], "label": crit.label if crit else row["criterion"],
            "verdict": row["verdict"], "detail": row.get("detail") or "", "reason": row["reason"],
            "clause_ids": row.get("evidence_clause_ids", row.get("clause_ids", [])),
            "tags": row.get("evidence_tags", row.get("tags", [])), "evidence": evidence,
            "clause_pages": [f"/-/clause/{e['clause_id']}" for e in evidence if e.get("clause_id")][:10]}


def stored_rating(db, source: dict[str, Any], which: str | None, scope: str) -> dict[str, Any]:
    """The rating of ``source`` at ``which`` (latest, a day, a version id) as JSON-ready data."""
    from clausewatch.db import openness as store
    from clausewatch.db.comparisons import latest_stored_version, version_on, version_row

    which = which or "latest"
    label = f"{source['source_id']}@{which}"
    if which == "latest":
        version = latest_stored_version(db, source["id"])
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", which):
        try:
            dt.date.fromisoformat(which)
        except ValueError:
            fail(f"{label}: {which!r} is not a date")
        version = version_on(db, source["id"], which)
    elif which.isdigit():
        version = version_row(db, int(which))
        if version is not None and version["source_id"] != source["id"]:
            fail(f"{label}: version {which} is not a version of {source['source_id']!r}")
    else:
        fail(f"{label}: {which!r} is not latest, a date (YYYY-MM-DD) or a version id")
    if version is None:
        fail(f"{label}: no stored version (run `clausewatch crawl`)")
    if source.get("kind") != "license":
        fail(f"{label}: a {source.get('kind')} is not rated; rate the licences that incorporate it "
             f"(`clausewatch openness` lists them)")
    rating = store.last_rating_of_version(db, version["id"], scope)
    if rating is None:
        fail(f"{label}: version {version['id']} is not rated yet (run `clausewatch process`)")
    rules = _rules()
    policies = []
    for pid in rating["policy_version_ids"]:
        row = db.execute("SELECT s.source_id, v.seq, v.valid_from FROM versions v JOIN sources s ON s.id = v.source_id "
                         "WHERE v.id = ?", [pid]).fetchone() if pid else None
        if row:
            policies.append({"source": row[0], "version_id": pid, "version_seq": row[1], "valid_from": row[2]})
    return {"source": source["source_id"], "document": source["title"], "family": source.get("family"),
            "version_id": version["id"], "version_seq": version["seq"], "valid_from": version["valid_from"],
            "scope": scope, "policies": policies, "unread": rating["unread"], "class": rating["class"],
            "class_label": rating["class_label"], "class_reason": rating["class_reason"],
            "decided_by": rating["decided_by"], "rule_version": rating["rule_version"],
            "rated_at": rating["rated_at"], "page": f"/-/openness/{version['id']}",
            "criteria": [_criterion_json(r, rules) for r in store.criteria_of(db, rating["id"])]}


def file_rating(path: Path, policies: tuple[str, ...]) -> dict[str, Any]:
    """A file (and the policies it incorporates) analysed and rated now."""
    from clausewatch.crawlers.extract import ExtractionError
    from clausewatch.files import extract_file
    from clausewatch.nlp import analyse
    from clausewatch.openness import LICENCE, POLICY, Document, facts_from_clause, rate

    docs = []
    for k, name in enumerate((str(path), *policies)):
        role = LICENCE if k == 0 else POLICY
        try:
            text = extract_file(Path(name)).text
        except (ExtractionError, OSError, UnicodeError, ValueError) as exc:
            fail(f"{name}: cannot be read: {exc}")
        docs.append(Document(Path(name).name, role, [facts_from_clause(c, document=Path(name).name, role=role)
                                                     for c in analyse(text)]))
    rules = _rules()
    rating = rate(docs, rules).to_json()
    return {"file": str(path), "policies": list(policies), "scope": "effective" if policies else "version",
            **{k: v for k, v in rating.items() if k != "criteria"},
            "criteria": [_criterion_json(v, rules) for v in rating["criteria"]]}


def _evidence_line(e: dict[str, Any]) -> str:
    where = e["path"] if e.get("role", "licence") == "licence" else f"{e['document']} {e['path']}"
    ref = f"#{e['clause_id']} " if e.get("clause_id") else ""
    return f"{ref}{where} [{e['tag']}] {e['excerpt'][:110]}"


def print_rating(data: dict[str, Any]) -> None:
    if "file" in data:
        head = f"{data['file']}" + (f" with {', '.join(data['policies'])}" if data["policies"] else "")
    else:
        with_ = ", ".join(f"{p['source']} v{p['version_seq']}" for p in data["policies"])
        head = (f"{data['document']} ({data['source']}) version {data['version_seq']} of {data['valid_from'][:10]}, "
                + (f"effective licence with {with_}" if with_ else
                   "effective licence" if data["scope"] == "effective" else "licence text alone"))
    click.echo(head)
    if data.get("unread"):
        click.echo(f"  not stored, so not read: {', '.join(data['unread'])}")
    click.echo(f"class: {data['class_label']}   (rule {data['rule_version']})")
    click.echo(f"  {data['class_reason']}")
    for c in data["criteria"]:
        click.echo(f"\n  {MARKS[c['verdict']]:<4}  {c['label']}" + (f" - {c['detail']}" if c["detail"] else ""))
        click.echo(f"        {c['reason']}")
        for e in c["evidence"][:3]:
            click.echo(f"        {_evidence_line(e)}")
        if len(c["evidence"]) > 3:
            click.echo(f"        ... and {len(c['evidence']) - 3} more clauses")


def matrix_rows(db, families: tuple[str, ...], scope: str) -> list[dict[str, Any]]:
    from clausewatch.db import openness as store

    out = []
    for r in store.current_ratings(db, scope=scope, families=families):
        verdicts = {row["criterion"]: row for row in store.criteria_of(db, r["id"])}
        out.append({"source": r["source"], "document": r["document"], "family": r["family"],
                    "version_id": r["version_id"], "version_seq": r["version_seq"], "valid_from": r["valid_from"],
                    "class": r["class"], "class_label": r["class_label"], "rule_version": r["rule_version"],
                    "criteria": {c: {"verdict": v["verdict"], "detail": v.get("detail") or "",
                                     "clause_id": v.get("first_clause_id")} for c, v in verdicts.items()}})
    return out


def print_matrix(rows: list[dict[str, Any]]) -> None:
    from clausewatch.openness import CRITERIA

    rules = _rules()
    headers = ["family", "source", "v", "class", *[rules.criteria[c].short for c in CRITERIA]]
    print_table(headers, [[r["family"], r["source"], r["version_seq"], r["class_label"],
                           *[MARKS[r["criteria"][c]["verdict"]] if c in r["criteria"] else "" for c in CRITERIA]]
                          for r in rows])
    click.echo(f"\n{len(rows)} licences; pass / cond(itional) / FAIL / ? (unknown). "
               "`clausewatch openness SOURCE` says why.")


def print_history(db, source: dict[str, Any]) -> None:
    from clausewatch.db import openness as store

    click.echo(f"\nhistory of {source['source_id']}:")
    print_table(["version", "from", "scope", "class"],
                [[f"v{r['version_seq']} (#{r['version_id']})", (r["valid_from"] or "")[:10], r["scope"],
                  r["class_label"]] for r in store.ratings_of_source(db, source["id"])])
    changes = store.rating_changes_of(db, source["id"])
    if changes:
        click.echo("")
        print_table(["scope", "basis", "criterion", "before", "after", "from version", "to version"],
                    [[c["scope"], c["basis"] + (f" ({c['via_source']})" if c.get("via_source") else ""),
                      c["criterion"], c["old_verdict"], c["new_verdict"], c["old_version_id"], c["new_version_id"]]
                     for c in changes])


@click.command()
@db_option
@click.argument("target", required=False, metavar="[SOURCE[@VERSION] | FILE]")
@click.option("--family", "families", multiple=True, metavar="F", help="Matrix: only this family (repeatable).")
@click.option("--scope", type=click.Choice(["effective", "version"]), default="effective", show_default=True,
              help="effective: the licence with the policies it incorporates; version: the licence text alone.")
@click.option("--policy", "policies", multiple=True, metavar="FILE",
              help="With FILE: a policy the licence incorporates (repeatable).")
@click.option("--history", is_flag=True, help="With SOURCE: every rating state and verdict change.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def openness(db: str | None, target: str | None, families: tuple[str, ...], scope: str, policies: tuple[str, ...],
             history: bool, fmt: str) -> None:
    """How open is each licence, and why not: criteria with the clauses that decide them, and a class."""
    if target and Path(target).exists():
        if Path(target).is_dir():
            fail(f"{target}: is a directory, not a document")
        data = file_rating(Path(target), policies)
        click.echo(json.dumps(data, ensure_ascii=False, indent=2)) if fmt == "json" else print_rating(data)
        return
    if policies:
        fail("--policy goes with a FILE (a stored licence is rated with the policies its declaration incorporates)")
    database = open_public(db)
    if not target:
        rows = matrix_rows(database, families, scope)
        if not rows and families:
            fail(f"no rated licence in family {', '.join(families)} (`clausewatch sources` lists the families)")
        if not rows:
            fail("no licence is rated yet (run `clausewatch crawl` or `clausewatch process`)")
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2)) if fmt == "json" else print_matrix(rows)
        return
    match = STORED.match(target)
    if not match:
        fail(f"{target}: no such file or source (a stored licence is SOURCE, SOURCE@latest, SOURCE@YYYY-MM-DD "
             "or SOURCE@VERSION_ID)")
    from clausewatch.db.documents import source_by_id

    source = source_by_id(database, match["source"])
    if source is None:
        fail(f"{match['source']}: unknown source (see `clausewatch sources`)")
    data = stored_rating(database, source, match["which"], scope)
    if fmt == "json":
        if history:
            from clausewatch.db import openness as store

            data["history"] = store.ratings_of_source(database, source["id"])
            data["rating_changes"] = store.rating_changes_of(database, source["id"])
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    print_rating(data)
    if history:
        print_history(database, source)
