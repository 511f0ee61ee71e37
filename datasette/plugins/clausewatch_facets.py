"""A facet type that computes all its facets in one query: ``facets: [{grouped: family}, {grouped: {array: tags}}]``.

Datasette runs one query per facet, and each re-runs the page's whole filter (a full-text search joined to
versions and sources on current_clauses). Here the filtered rows are materialised once and every facet is a
GROUP BY over them, so five facets cost about one. Results have the shape of Datasette's column and array
facets (same filters, same toggle links), so the page looks and behaves the same, except that a value the
glossary names (a tag id, an entity type, a document kind) is shown by its plain label.
"""
from __future__ import annotations

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args


class GroupedFacet(Facet):
    type = "grouped"

    def _columns(self) -> list[tuple[str, bool, str]]:
        out = []
        for item in self.get_configs():
            config = item["config"]
            if "array" in config:
                out.append((config["array"], True, item["source"]))
            else:
                out.append((config.get("column") or config["simple"], False, item["source"]))
        return out

    def _sql(self, columns: list[tuple[str, bool, str]], limit: int) -> str:
        names = list(dict.fromkeys(col for col, _, _ in columns))
        arms = []
        for i, (col, is_array, _) in enumerate(columns):
            c = f"m.{escape_sqlite(col)}"
            if is_array:
                arm = (f"SELECT {i} AS facet, j.value AS value, count(DISTINCT m._row) AS count FROM m, "
                       f"json_each(CASE WHEN json_valid({c}) THEN {c} ELSE '[]' END) j "
                       f"GROUP BY j.value ORDER BY count DESC, value LIMIT {limit}")
            else:
                arm = (f"SELECT {i} AS facet, {c} AS value, count(*) AS count FROM m WHERE {c} IS NOT NULL "
                       f"GROUP BY {c} ORDER BY count DESC, value LIMIT {limit}")
            arms.append(f"SELECT * FROM ({arm})")
        select = ", ".join(escape_sqlite(n) for n in names)
        return (f"WITH m AS MATERIALIZED (SELECT row_number() OVER () AS _row, {select} FROM ({self.sql})) "
                + " UNION ALL ".join(arms))

    async def facet_results(self):
        columns = self._columns()
        if not columns:
            return [], []
        size = self.get_facet_size()
        try:
            rows = (await self.ds.execute(
                self.database, self._sql(columns, size + 1), self.params, truncate=False,
                custom_time_limit=self.ds.setting("facet_time_limit_ms") * len(columns))).rows
        except QueryInterrupted:
            return [], [col for col, _, _ in columns]
        labels = await self._labels()
        pairs = self.get_querystring_pairs()
        results = []
        for i, (col, is_array, source) in enumerate(columns):
            values = [r for r in rows if r["facet"] == i]
            key = f"{col}__arraycontains" if is_array else (f"{col}__exact" if col.startswith("_") else col)
            facet_arg = {"_facet_grouped": col}
            items = []
            for r in values[:size]:
                value = str(r["value"]) if is_array else r["value"]
                selected = (key, str(value)) in pairs
                change = path_with_removed_args if selected else path_with_added_args
                label = labels.get(str(value), {}).get(col) or labels.get(str(value), {}).get("*") or value
                items.append({"value": value, "label": label, "count": r["count"], "selected": selected,
                              "toggle_url": self.ds.absolute_url(
                                  self.request, self.ds.urls.path(change(self.request, {key: str(value) if selected else value})))})
            results.append({"name": col, "type": "array" if is_array else "column", "results": items,
                            "hideable": source != "metadata", "truncated": len(values) > size,
                            "toggle_url": self.ds.urls.path(path_with_removed_args(self.request, facet_arg))})
        return results, []


    async def _labels(self) -> dict[str, dict[str, str]]:
        """``{value: {column or "*": label}}``: tags and entity types by id, document kinds in a kind column."""
        try:
            rows = (await self.ds.execute(self.database, "SELECT term, type, label FROM glossary")).rows
        except Exception:  # noqa: BLE001 - no glossary table (a database not published by this version)
            return {}
        out: dict[str, dict[str, str]] = {}
        for term, kind, label in rows:
            if kind in ("tag", "entity type"):
                out.setdefault(term, {})["*"] = label
            elif kind == "document kind":
                out.setdefault(term.split(":", 1)[1], {})["kind"] = label
        return out


@hookimpl
def register_facet_classes():
    return [GroupedFacet]
