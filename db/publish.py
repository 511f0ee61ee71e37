"""What the public Datasette reads besides the tables: full-text indexes, views for bulk export, indexes.

:func:`publish` is idempotent: it creates what is missing and re-creates a view whose SQL changed. It runs
as a migration (so every database has the FTS triggers before the first clause is written) and again
when `clausewatch serve` starts (so a view edited in this file reaches existing databases).

The "current" version of a source is its latest *analysed* version (``processed_at`` set): a version
still waiting for the NLP stage does not make the source's clauses vanish from the views.
"""
from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from clausewatch.db.glossary import publish_glossary
from clausewatch.db.models import VIEWS as MODEL_VIEWS
from clausewatch.db.openness import VIEWS as OPENNESS_VIEWS

# table -> columns indexed by FTS5 (external content, kept in sync by triggers)
FTS: dict[str, list[str]] = {
    "clauses": ["text", "path", "heading"],
    "versions": ["title", "text"],
}
FTS_TOKENIZE = "porter"  # "users" finds "user", "licensed" finds "license"

INDEXES: dict[str, str] = {
    "idx_clauses_version_path": "clauses(version_id, path)",
    "idx_changes_versions": "changes(new_version_id, old_version_id)",
    "idx_versions_previous": "versions(previous_id)",
    "idx_clause_tags_tag_clause": "clause_tags(tag, clause_id)",
}

# ids of the current versions (the latest analysed version of each source): a non-correlated list that SQLite
# builds once per query, so testing a row costs one lookup in a small index
_CURRENT_IDS = """(SELECT (SELECT x.id FROM versions x WHERE x.source_id = cs.id AND x.processed_at IS NOT NULL
                           ORDER BY x.seq DESC LIMIT 1) FROM sources cs)"""


def _json_array(expr: str) -> str:
    return f"CASE WHEN json_valid({expr}) THEN {expr} ELSE '[]' END"


def _joined(expr: str) -> str:
    """A JSON array as "a, b" (NULL when empty)."""
    return f"(SELECT group_concat(value, ', ') FROM json_each({_json_array(expr)}))"


def _html(expr: str, *, keep_null: bool = False) -> str:
    """SQL escaping text for HTML element content (feeds build their HTML in SQL); NULL becomes ''."""
    value = expr if keep_null else f"coalesce({expr}, '')"
    return f"replace(replace(replace({value}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"


VIEWS: dict[str, str] = {
    "current_clauses": f"""
SELECT c.id AS clause_id, s.source_id AS source, s.title AS document, s.family, s.kind, s.publisher,
       s.jurisdiction, v.id AS version_id, v.seq AS version_seq, v.valid_from, c.ordinal, c.path, c.heading,
       c.label, c.text, c.tags, c.open_relevant, s.url AS source_url
FROM clauses c
JOIN versions v ON v.id = c.version_id
JOIN sources s ON s.id = v.source_id
WHERE c.version_id IN {_CURRENT_IDS}""",

    "clause_changes": """
SELECT ch.id AS change_id, s.source_id AS source, s.title AS document, coalesce(ch.family, s.family) AS family,
       s.kind, s.publisher, s.jurisdiction, ch.scope, via.source_id AS via_source, ch.kind AS change_kind,
       ch.substantive, ch.old_version_id, ov.seq AS old_version_seq, ov.valid_from AS old_valid_from,
       ch.new_version_id, nv.seq AS new_version_seq, nv.valid_from AS new_valid_from, ch.old_path, ch.new_path,
       ch.old_text, ch.new_text, ch.word_diff, ch.cosmetic_reasons, ch.tags_added, ch.tags_removed,
       ch.entity_changes, ch.detected_at, ch.effective_date, s.url AS source_url, ch.alert, s.role,
       ch.reverted_to_version_id, rv.valid_from AS reverted_to_date
FROM changes ch
JOIN sources s ON s.id = ch.source_id
JOIN versions nv ON nv.id = ch.new_version_id
LEFT JOIN versions ov ON ov.id = ch.old_version_id
LEFT JOIN sources via ON via.id = ch.via_source_id
LEFT JOIN versions rv ON rv.id = ch.reverted_to_version_id
ORDER BY ch.id DESC""",

    "licence_matrix": f"""
SELECT s.source_id AS source, s.title AS document, s.family, s.kind, s.publisher, s.jurisdiction,
       v.id AS version_id, v.seq AS version_seq, t.tag, COUNT(DISTINCT c.id) AS clauses
FROM versions v
JOIN sources s ON s.id = v.source_id
JOIN clauses c ON c.version_id = v.id
JOIN clause_tags t ON t.clause_id = c.id
WHERE v.id IN {_CURRENT_IDS}
GROUP BY v.id, t.tag
ORDER BY s.family, s.source_id, t.tag""",

    "entity_mentions": f"""
SELECT e.id AS entity_id, e.type, e.text, e.value, e.value_number, e.unit, e.currency,
       s.source_id AS source, s.title AS document, s.family, s.kind, s.publisher, s.jurisdiction,
       v.id AS version_id, v.seq AS version_seq, v.valid_from, c.id AS clause_id, c.path, c.heading,
       CASE WHEN v.id IN {_CURRENT_IDS} THEN 1 ELSE 0 END AS is_current
FROM entities e
JOIN clauses c ON c.id = e.clause_id
JOIN versions v ON v.id = c.version_id
JOIN sources s ON s.id = v.source_id""",

    "source_health": """
SELECT s.id AS source_pk, s.source_id AS source, s.title AS document, s.family, s.kind, s.publisher,
       s.jurisdiction, s.active, s.status, s.consecutive_failures, s.last_fetch_at, s.last_success_at,
       s.last_change_at, s.last_error, s.last_error_at,
       (SELECT COUNT(*) FROM versions v WHERE v.source_id = s.id) AS versions,
       (SELECT COUNT(*) FROM held_versions h WHERE h.source_id = s.id AND h.status = 'pending') AS held_pending,
       (SELECT COUNT(*) FROM fetches f WHERE f.source_id = s.id AND f.outcome IN ('error', 'gone')) AS failed_fetches,
       (SELECT v.process_error FROM versions v WHERE v.source_id = s.id AND v.process_error IS NOT NULL
        ORDER BY v.seq DESC LIMIT 1) AS processing_error,
       s.url AS source_url,
       CASE WHEN s.active = 0 THEN 'inactive'
            WHEN s.status IN ('error', 'gone') THEN 'failing'
            WHEN EXISTS (SELECT 1 FROM versions v WHERE v.source_id = s.id AND v.process_error IS NOT NULL)
              THEN 'processing error'
            WHEN s.status = 'held' OR EXISTS (SELECT 1 FROM held_versions h WHERE h.source_id = s.id
                                             AND h.status = 'pending') THEN 'held for review'
            WHEN NOT EXISTS (SELECT 1 FROM versions v WHERE v.source_id = s.id) THEN 'never fetched'
            ELSE 'ok' END AS state
FROM sources s
ORDER BY s.family, s.source_id""",

    # renditions of one document (sources sharing `document`): rank 1 is the one the site lists and searches
    # (it has an analysed version, then the format that segments best: html, markdown, text, xml, pdf)
    "renditions": """
SELECT s.id AS source_pk, s.source_id AS source, s.title, s.document, s.family, s.format,
       row_number() OVER (PARTITION BY s.document ORDER BY
           EXISTS (SELECT 1 FROM versions v WHERE v.source_id = s.id AND v.processed_at IS NOT NULL) DESC,
           CASE s.format WHEN 'html' THEN 0 WHEN 'markdown' THEN 1 WHEN 'text' THEN 2 WHEN 'xml' THEN 3 ELSE 4 END,
           s.source_id) AS rank,
       count(*) OVER (PARTITION BY s.document) AS renditions
FROM sources s
WHERE s.document IS NOT NULL AND s.active = 1""",

    # one row per change in the shape datasette-atom wants; `tags` = tags added, removed or carried by
    # the old or new clause, so a per-tag feed also lists a rewording of a clause that has the tag
    "change_feed": f"""
SELECT 'tag:clausewatch,2024:change/' || ch.id AS atom_id,
       s.title || ': ' || ch.kind || ' ' || coalesce(ch.new_path, ch.old_path, '')
         || CASE WHEN ch.substantive THEN '' ELSE ' (cosmetic)' END AS atom_title,
       coalesce(strftime('%Y-%m-%dT%H:%M:%SZ', ch.detected_at), strftime('%Y-%m-%dT%H:%M:%SZ', nv.fetched_at),
                '1970-01-01T00:00:00Z') AS atom_updated,
       '/-/diff/' || coalesce(ch.old_version_id, nv.previous_id, ch.new_version_id) || '/' || ch.new_version_id
         || '#change-' || ch.id AS atom_link,
       '<p><strong>' || {_html('s.title')} || '</strong> (' || {_html('s.publisher')} || '), '
         || {_html('ch.kind')} || ' clause <code>' || {_html('coalesce(ch.new_path, ch.old_path)')} || '</code>'
         || ' in version ' || nv.seq || ' of ' || {_html('nv.valid_from')}
         || CASE WHEN via.source_id IS NOT NULL THEN ', through ' || {_html('via.title')} ELSE '' END || '.</p>'
         || CASE WHEN ch.old_text IS NOT NULL THEN '<p>Before:</p><blockquote>' || {_html('ch.old_text')}
                 || '</blockquote>' ELSE '' END
         || CASE WHEN ch.new_text IS NOT NULL THEN '<p>After:</p><blockquote>' || {_html('ch.new_text')}
                 || '</blockquote>' ELSE '' END
         || coalesce('<p>Tags added: ' || {_html(_joined('ch.tags_added'), keep_null=True)} || '</p>', '')
         || coalesce('<p>Tags removed: ' || {_html(_joined('ch.tags_removed'), keep_null=True)} || '</p>', '') AS atom_content_html,
       ch.id AS change_id, s.source_id AS source, coalesce(ch.family, s.family) AS family, s.kind, ch.scope,
       ch.kind AS change_kind, ch.substantive, ch.alert, s.role,
       (SELECT json_group_array(tag) FROM (
            SELECT value AS tag FROM json_each({_json_array('ch.tags_added')})
            UNION SELECT value FROM json_each({_json_array('ch.tags_removed')})
            UNION SELECT j.value FROM clauses c, json_each({_json_array('c.tags')}) j
                  WHERE c.version_id = ch.new_version_id AND c.path = ch.new_path
            UNION SELECT j.value FROM clauses c, json_each({_json_array('c.tags')}) j
                  WHERE c.version_id = ch.old_version_id AND c.path = ch.old_path)) AS tags
FROM changes ch
JOIN sources s ON s.id = ch.source_id
JOIN versions nv ON nv.id = ch.new_version_id
LEFT JOIN sources via ON via.id = ch.via_source_id""",
}

VIEWS.update(OPENNESS_VIEWS)  # issue 18: openness ratings (db/openness.py)
VIEWS.update(MODEL_VIEWS)     # issue 18: models -> licences (db/models.py)


def _view_sql(name: str, select: str) -> str:
    return f"CREATE VIEW {name} AS{select}"


def _update_trigger_sql(table: str, columns: list[str]) -> str:
    """sqlite-utils' update trigger, fired only when an indexed column changes: marking a version processed
    must not re-index its whole text (about 40 ms for the EU AI Act)."""
    cols = ", ".join(f'"{c}"' for c in columns)
    old = ", ".join(f'old."{c}"' for c in columns)
    new = ", ".join(f'new."{c}"' for c in columns)
    return (f'CREATE TRIGGER "{table}_au" AFTER UPDATE OF {cols} ON "{table}" BEGIN\n'
            f'  INSERT INTO "{table}_fts" ("{table}_fts", rowid, {cols}) VALUES(\'delete\', old.rowid, {old});\n'
            f'  INSERT INTO "{table}_fts" (rowid, {cols}) VALUES (new.rowid, {new});\nEND')


def missing(db: Database) -> list[str]:
    """Names of the FTS tables, triggers, indexes and views that are absent or out of date."""
    objects = {r[0]: (r[1], r[2]) for r in db.execute("SELECT name, type, sql FROM sqlite_master")}
    out = []
    for table, columns in FTS.items():
        out += [n for n in (f"{table}_fts", f"{table}_ai", f"{table}_ad") if n not in objects]
        if objects.get(f"{table}_au", (None, None))[1] != _update_trigger_sql(table, columns):
            out.append(f"{table}_au")
    out += [name for name in INDEXES if name not in objects]
    out += [name for name, select in VIEWS.items()
            if objects.get(name, (None, None))[1] != _view_sql(name, select)]
    return out


def publish(db: Database) -> dict[str, Any]:
    """Create the FTS indexes (with triggers), indexes and views the public Datasette needs.

    Returns what was done: ``{"fts": [...], "indexes": [...], "views": [...], "tables": [...]}`` (empty lists
    when the database was already up to date; ``tables``: the glossary was rewritten).
    """
    done: dict[str, list[str]] = {"fts": [], "indexes": [], "views": [], "tables": []}
    for table, columns in FTS.items():
        fts = db[f"{table}_fts"]
        triggers = {t.name for t in db[table].triggers}
        if not fts.exists() or not {f"{table}_ai", f"{table}_ad"} <= triggers:
            db[table].enable_fts(columns, create_triggers=True, tokenize=FTS_TOKENIZE, replace=True)
            done["fts"].append(table)
        trigger = _update_trigger_sql(table, columns)
        row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", [f"{table}_au"]).fetchone()
        if row is None or row[0] != trigger:
            with db.atomic():
                db.execute(f'DROP TRIGGER IF EXISTS "{table}_au"')
                db.execute(trigger)
            done["fts"].append(f"{table}_au")
    for name, target in INDEXES.items():
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?", [name]).fetchone() is None:
            db.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
            done["indexes"].append(name)
    for name, select in VIEWS.items():
        sql = _view_sql(name, select)
        row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = ?", [name]).fetchone()
        if row is None or row[0] != sql:
            with db.atomic():
                db.execute(f"DROP VIEW IF EXISTS {name}")
                db.execute(sql)
            done["views"].append(name)
    if publish_glossary(db):
        done["tables"].append("glossary")
    return done


def rebuild_fts(db: Database) -> None:
    """Rebuild the full-text indexes from their tables (after writes by a connection without triggers)."""
    for table in FTS:
        db[table].rebuild_fts()
