"""Technical re-extraction: when the extractor or a source's selectors change, the stored snapshots are
extracted again. A different text is stored as a *technical* version (not a change of the document),
without fetching anything."""
from __future__ import annotations

import sys
from typing import Any

from clausewatch.crawlers.extract import EXTRACTOR_VERSION, ExtractionError, extract
from clausewatch.crawlers.outcome import extraction_key
from clausewatch.db.documents import (
    add_reextracted_version,
    latest_version,
    source_rows,
    sync_sources,
    version_snapshots,
)


def sync_declarations(db, registry) -> None:
    """Bring the stored sources' declared fields (format, selectors, ...) up to date with the registry,
    so that a selector edited in a declaration is used at once; sources no longer declared stay as they are."""
    sync_sources(db, [s.as_row() for s in registry.sources.values()], deactivate_missing=False)


def reextract(db, *, source_ids: list[str] | None = None, force: bool = False,
              progress: bool = True) -> dict[str, Any]:
    """Re-extract the latest version of each source whose extraction key is stale (or all with force)."""
    counts = {"checked": 0, "technical": 0, "same": 0, "errors": 0}
    for row in source_rows(db):
        if source_ids and row["source_id"] not in source_ids:
            continue
        latest = latest_version(db, row["id"])
        key = extraction_key(row.get("selectors"))
        if latest is None or (latest.get("extraction_key") == key and not force):
            continue
        counts["checked"] += 1
        raw = version_snapshots(db, latest["id"])
        if not raw:
            continue
        main, parts = raw[0], {r["part"]: r["body"] for r in raw[1:]}
        try:
            result = extract(main["body"], row["format"], selectors=row.get("selectors"), parts=parts or None,
                             url=row["url"], content_type=main["content_type"])
        except ExtractionError as exc:
            counts["errors"] += 1
            if progress:
                print(f"  {row['source_id']}: re-extraction failed, the stored version is kept: {exc}",
                      file=sys.stderr)
            continue
        new_id = add_reextracted_version(db, row["id"], latest, text=result.text, title=result.title,
                                         extractor_version=EXTRACTOR_VERSION, extraction_key=key)
        counts["technical" if new_id else "same"] += 1
        if progress and new_id:
            print(f"  {row['source_id']}: technical re-extraction stored as version {new_id}", file=sys.stderr)
    return counts
