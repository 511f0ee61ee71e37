"""What the subscription form offers: the families, tags, jurisdictions and kinds that exist, by plain name."""
from __future__ import annotations

from pathlib import Path


def filter_choices(public_path: Path) -> dict[str, list[tuple[str, str, str | None]]]:
    """``{filter: [(value, label, group or None)]}`` from the registry and the public database; tags are
    named by their glossary label and grouped (what a licence grants, restricts ...)."""
    from clausewatch.db import connect
    from clausewatch.db.glossary import TAG_GROUPS, TAGS, TERMS
    from clausewatch.db.subscriptions import known_tags
    from clausewatch.digest.filters import known_values

    known = known_values(public_path)
    tags: list[str] = []
    if public_path.is_file():
        tags = known_tags(connect(public_path, readonly=True))
    order = {tag: k for k, tag in enumerate(TAGS)}
    kinds = {term: label for kind, term, label, _ in TERMS if kind == "document kind"}
    return {
        "family": [(f, f, None) for f in sorted(known["family"])],
        "tag": [(t, TAGS.get(t, (t,))[0], TAG_GROUPS.get(t.split(".")[0], "Other"))
                for t in sorted(tags, key=lambda t: (order.get(t, len(order)), t))],
        "jurisdiction": [(j, j, None) for j in sorted(known["jurisdiction"])],
        "kind": [(k, kinds.get(k, k), None) for k in sorted(known["kind"])],
    }
