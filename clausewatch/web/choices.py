"""What the subscription form offers: the families, tags, jurisdictions and kinds that exist."""
from __future__ import annotations

from pathlib import Path


def filter_choices(public_path: Path) -> dict[str, list[tuple[str, str]]]:
    """``{filter: [(value, label)]}`` from the registry and the public database."""
    from clausewatch.db import connect
    from clausewatch.db.subscriptions import known_tags
    from clausewatch.digest.filters import known_values

    known = known_values(public_path)
    tags: list[str] = []
    if public_path.is_file():
        tags = known_tags(connect(public_path, readonly=True))
    return {
        "family": [(f, f) for f in sorted(known["family"])],
        "tag": [(t, t) for t in tags],
        "jurisdiction": [(j, j) for j in sorted(known["jurisdiction"])],
        "kind": [(k, k) for k in sorted(known["kind"])],
    }
