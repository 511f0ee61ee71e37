"""Which corpus files a replay stored as versions, and why the others were not."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from clausewatch.crawlers.registry import Registry
from clausewatch.crawlers.replay import load_manifest
from clausewatch.db.documents import last_fetch_error, snapshot_versions


def corpus_coverage(db, corpus: Path, registry: Registry) -> list[dict[str, Any]]:
    mapped = {rel: s.id for s in registry.sources.values() for rel in s.replay}
    mapped.update({rel: d.id for d in registry.discoveries.values() for rel in d.replay})
    rows = []
    for rel in sorted(load_manifest(corpus)):
        path = corpus / rel
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        snap, versions = snapshot_versions(db, digest) if digest else (None, [])
        source = mapped.get(rel)
        if versions:
            status, reason = "stored", f"version {', '.join(map(str, versions))}"
        elif not path.is_file():
            status, reason = "missing", "listed in MANIFEST.yaml but not in the corpus folder"
        elif snap:
            status, reason = "fetched", "same extracted text as the version before it (no new version)"
        elif source is None:
            parent = next((s.id for s in registry.sources.values() if s.format == "xml" and s.replay
                           and Path(s.replay[0]).parent == Path(rel).parent), None)
            status, reason = "not mapped", (f"part of the package of {parent}" if parent
                                            else "no source lists it in `replay:`")
        else:
            status, reason = "not stored", last_fetch_error(db, source) or "not fetched yet"
        rows.append({"path": rel, "source": source, "status": status, "reason": reason})
    return rows
