"""Reading one document from a file, the way the pipeline would read it from its source."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from clausewatch.crawlers.extract import Extracted, extract_path


@lru_cache(maxsize=1)
def _declared_selectors() -> dict[str, dict]:
    """Corpus-relative path -> the selectors of the source whose replay list holds it."""
    from clausewatch.crawlers.registry import DeclarationError, load_registry

    try:
        registry = load_registry()
    except DeclarationError:
        return {}
    return {rel: s.selectors for s in registry.sources.values() if s.selectors for rel in s.replay}


def declared_selectors(path: Path) -> dict | None:
    """The selectors declared for a corpus file (a replayed source's file), if any."""
    from clausewatch.config import corpus_dir

    try:
        rel = path.resolve().relative_to(corpus_dir().resolve())
    except (ValueError, OSError):
        return None
    return _declared_selectors().get(rel.as_posix())


def extract_file(path: str | Path) -> Extracted:
    """Extract a file (txt, md, html, xml, pdf); a corpus file gets its source's declared selectors."""
    path = Path(path)
    return extract_path(path, selectors=declared_selectors(path))
