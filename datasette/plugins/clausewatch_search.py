"""clausewatch pages: the ranked search (``/-/search``) and the glossary of plain names (``/-/glossary``).

- ``/-/search?q=...&family=&kind=&jurisdiction=&tag=&source=&page=``: the current clauses best matching the
  words (see ``clausewatch.db.search``: spelling variants, ranking, references such as "Article 53"), with a
  highlighted snippet, their tags by plain name, and filters with counts beside the results. Without ``q``,
  the clauses carrying a tag or matching the filters. Renditions of one document are searched once.
- ``/-/glossary``: every tag, entity type and term the site uses, with its label and definition.

Everything shown is a stored row (``clauses_fts``, ``current_clauses``, ``glossary``); nothing is computed.
"""
from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.utils.asgi import Response

from clausewatch.db.search import FILTERS, STOPWORDS, plan_search

DB = "clausewatch"
PAGE_SIZE = 20
FACET_LIMIT = 12


async def _rows(datasette, sql: str, params: dict | None = None) -> list[dict[str, Any]]:
    return [dict(r) for r in (await datasette.get_database(DB).execute(sql, params or {})).rows]


async def glossary(datasette) -> dict[str, dict[str, Any]]:
    """``{term: {label, definition, type, grp}}`` from the glossary table (empty before it is published)."""
    try:
        rows = await _rows(datasette, "SELECT term, type, grp, label, definition FROM glossary ORDER BY ordinal")
    except Exception:  # noqa: BLE001 - a database not published by this version yet: ids stay ids
        return {}
    return {r["term"]: r for r in rows}


def mark_snippet(snippet: str | None, fallback: str) -> str:
    """An FTS5 snippet (hits between \\x02 and \\x03) as HTML with <mark>; the clause start when there is none."""
    if not snippet or "\x02" not in snippet:
        text = fallback if len(fallback) <= 300 else fallback[:300].rsplit(" ", 1)[0] + " …"
        return html.escape(text)
    return html.escape(snippet).replace("\x02", "<mark>").replace("\x03", "</mark>")


def _stems(text: str) -> set[str]:
    return {w[:5] for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS and len(w) > 1}


def matching_topics(terms: list, labels: dict[str, dict[str, Any]], limit: int = 3) -> list[dict[str, Any]]:
    """Tags a query is about: every word of the tag's label is in the query, or every word of the query is in
    the tag's label and definition (words compared by their first five letters, so plurals match)."""
    words = set()
    for term in terms:
        for word in [*term.words, *term.variants]:
            words |= _stems(word)
    if not words:
        return []
    found = []
    for term, row in labels.items():
        if row["type"] != "tag":
            continue
        label = _stems(re.sub(r"\(.*?\)", "", row["label"]))
        described = _stems(f"{row['label']} {row['definition']}")
        if (label and label <= words) or (len(words) > 1 and words <= described):
            found.append({**row, "term": term})
    return found[:limit]


def _link(request, **changes: str | None) -> str:
    """This search's URL with some arguments changed (None removes one); a new filter resets the page."""
    args = {k: request.args.get(k) for k in request.args if k != "page" and request.args.get(k)}
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    return "?" + urlencode(args)


async def search_page(datasette, request) -> Response:
    q = (request.args.get("q") or "").strip()[:500]
    filters = {k: request.args.get(k, "") for k in FILTERS}
    try:
        page = max(1, min(int(request.args.get("page") or 1), 500))
    except ValueError:
        page = 1
    all_renditions = request.args.get("renditions") == "all"
    labels = await glossary(datasette)
    context: dict[str, Any] = {"q": q, "filters": {k: v for k, v in filters.items() if v}, "labels": labels,
                               "hits": [], "facets": {}, "count": None, "error": None, "page": page,
                               "page_size": PAGE_SIZE, "all_renditions": all_renditions}
    if q or any(filters.values()):
        plan = plan_search(q, filters, page=page, page_size=PAGE_SIZE, all_renditions=all_renditions)
        context["terms"] = plan.terms
        context["reference"] = plan.reference
        context["topics_found"] = [] if filters.get("tag") else matching_topics(plan.terms, labels)
        try:
            hits = await _rows(datasette, plan.hits_sql, plan.params)
            count = (await _rows(datasette, plan.count_sql, plan.params))[0]
            facet_rows = await _rows(datasette, plan.facets_sql, plan.params)
            snippets = {}
            if plan.terms and hits:
                sql, params = plan.snippet_sql([h["clause_id"] for h in hits])
                snippets = {r["clause_id"]: r["snippet"] for r in await _rows(datasette, sql, params)}
        except QueryInterrupted:
            context["error"] = "This search took too long; add words or a filter."
            hits, count, facet_rows, snippets = [], None, [], {}
        renditions = await _rows(datasette, """SELECT r.document, r.source, r.format, r.rank FROM renditions r
            WHERE r.document IN (SELECT document FROM renditions WHERE rank = 1) ORDER BY r.document, r.rank""")
        others: dict[str, list[dict]] = {}
        primary_of = {r["document"]: r["source"] for r in renditions if r["rank"] == 1}
        for r in renditions:
            if r["rank"] > 1:
                others.setdefault(primary_of[r["document"]], []).append(r)
        titles = {r["source"]: r["document"] for r in hits}
        if facet_rows:
            sources = [f["value"] for f in facet_rows if f["facet"] == "source"]
            marks = ",".join("?" * len(sources))
            titles |= {r["source_id"]: r["title"] for r in await _rows(
                datasette, f"SELECT source_id, title FROM sources WHERE source_id IN ({marks})", sources)}
        for h in hits:
            h["snippet_html"] = mark_snippet(snippets.get(h["clause_id"]), h["text"])
            h["tag_list"] = _tags(h["tags"])
            h["also"] = others.get(h["source"], [])
        context.update(hits=hits, count=count, facets=_facets(facet_rows, filters, labels, titles, request),
                       renditions_hidden=bool(others) and not all_renditions)
        context["next_url"] = (_link(request, page=str(page + 1)) if count and count["hits"] > page * PAGE_SIZE
                               else None)
        context["prev_url"] = _link(request, page=str(page - 1)) if page > 1 else None
        context["all_renditions_url"] = _link(request, renditions=None if all_renditions else "all")
    else:
        context["topics"] = await _topics(datasette, labels)
    return Response.html(await datasette.render_template("cw_search.html", context, request=request))


def _tags(value: Any) -> list[str]:
    import json

    try:
        parsed = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return []
    return [t for t in parsed if isinstance(t, str)] if isinstance(parsed, list) else []


FACET_TITLES = {"family": "Family", "kind": "Kind of document", "jurisdiction": "Jurisdiction", "tag": "Topic",
                "source": "Document"}


def _facets(rows: list[dict], filters: dict[str, str], labels: dict, titles: dict, request) -> list[dict]:
    out = []
    for key in ("tag", "source", "family", "kind", "jurisdiction"):
        values = sorted((r for r in rows if r["facet"] == key), key=lambda r: (-r["n"], str(r["value"])))
        chosen = filters.get(key)
        items = []
        for r in values[:FACET_LIMIT]:
            value = str(r["value"])
            if key == "tag":
                label = labels.get(value, {}).get("label", value)
            elif key == "kind":
                label = labels.get(f"document kind:{value}", {}).get("label", value)
            elif key == "source":
                label = titles.get(value, value)
            else:
                label = value
            items.append({"value": value, "label": label, "count": r["n"], "selected": value == chosen,
                          "url": _link(request, **{key: None if value == chosen else value})})
        if chosen and not any(i["selected"] for i in items):
            label = labels.get(chosen, {}).get("label", chosen) if key == "tag" else chosen
            items.insert(0, {"value": chosen, "label": label, "count": 0, "selected": True,
                             "url": _link(request, **{key: None})})
        if items:
            out.append({"key": key, "title": FACET_TITLES[key], "options": items, "more": len(values) > FACET_LIMIT})
    return out


async def _topics(datasette, labels: dict) -> list[dict]:
    """Tag groups with their tags and how many current clauses carry each (the search page's start)."""
    counts = {r["tag"]: r["n"] for r in await _rows(datasette, """SELECT t.tag, count(DISTINCT t.clause_id) AS n
        FROM clause_tags t JOIN current_clauses c ON c.clause_id = t.clause_id
        WHERE c.source NOT IN (SELECT source FROM renditions WHERE rank > 1) GROUP BY t.tag""")}
    groups = []
    for term, row in labels.items():
        if row["type"] == "tag group":
            groups.append({"term": term, "label": row["label"], "tags": []})
    by_group = {g["term"]: g for g in groups}
    for term, row in labels.items():
        if row["type"] == "tag" and row["grp"] in by_group:
            by_group[row["grp"]]["tags"].append({**row, "count": counts.get(term, 0)})
    return groups


async def glossary_page(datasette, request) -> Response:
    labels = await glossary(datasette)
    counts = {r["tag"]: r["n"] for r in await _rows(datasette, """SELECT tag, count(DISTINCT clause_id) AS n
        FROM clause_tags WHERE clause_id IN (SELECT clause_id FROM current_clauses) GROUP BY tag""")}
    entity_counts = {r["type"]: r["n"] for r in await _rows(
        datasette, "SELECT type, count(*) AS n FROM entity_mentions WHERE is_current = 1 GROUP BY type")}
    sections: dict[str, list[dict]] = {}
    for term, row in labels.items():
        sections.setdefault(row["type"], []).append({**row, "term": term, "count": counts.get(term),
                                                     "entities": entity_counts.get(term)})
    return Response.html(await datasette.render_template("cw_glossary.html", {
        "labels": labels, "sections": sections}, request=request))


@hookimpl
def register_routes():
    return [
        (r"^/-/search$", search_page),
        (r"^/-/glossary$", glossary_page),
    ]
