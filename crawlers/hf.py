"""Open-weight models on Hugging Face: their declarations (``crawlers/models/*.yaml``, one file per family),
the Hub addresses the model crawl fetches, and the map of Hub licence ids to tracked sources
(``crawlers/hf-licences.yaml``).

What to track is data: a model is one line (its Hub repository id) in its family's file. The crawl reads
``https://huggingface.co/api/models/{repo}`` (the card's front matter is ``cardData``) and then the
repository's LICENSE file (or the file ``license_link`` points at inside the repository) and README.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import jsonschema
import yaml

HUB = "https://huggingface.co"
MODELS_DIR = Path(__file__).parent / "models"
HF_LICENCES = Path(__file__).parent / "hf-licences.yaml"
REPO_PATTERN = r"^[A-Za-z0-9][\w.-]*/[\w.-]+$"
LICENSE_FILE = re.compile(r"^(?:LICEN[CS]E|COPYING)(?:[-_.][\w.-]*)?(?:\.(?:txt|md))?$", re.I)

MODELS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["family", "publisher", "models"],
    "properties": {
        "family": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9.\-]*[a-z0-9]$"},
        "publisher": {"type": "string", "minLength": 2},
        "models": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False, "required": ["repo"],
            "properties": {"repo": {"type": "string", "pattern": REPO_PATTERN},
                           "title": {"type": "string", "minLength": 2}, "notes": {"type": "string"}}}},
    },
}


class ModelDeclarationError(ValueError):
    """A model declaration that cannot be used: one line naming the file and the entry."""


@dataclass(frozen=True)
class ModelDeclaration:
    repo: str
    family: str
    publisher: str
    title: str | None = None
    notes: str | None = None
    declared_in: str | None = None

    @property
    def api_url(self) -> str:
        return f"{HUB}/api/models/{self.repo}"

    def as_row(self) -> dict[str, Any]:
        return {"repo_id": self.repo, "family": self.family, "publisher": self.publisher, "title": self.title,
                "notes": self.notes, "declared_in": self.declared_in}


def models_dir() -> Path:
    return Path(os.environ.get("CLAUSEWATCH_MODELS") or MODELS_DIR)


def load_models(folder: str | Path | None = None) -> list[ModelDeclaration]:
    """Every declared model, in file order; :class:`ModelDeclarationError` for a bad or duplicate entry."""
    folder = Path(folder) if folder else models_dir()
    if not folder.is_dir():
        raise ModelDeclarationError(f"{folder}: no model declarations folder")
    out: dict[str, ModelDeclaration] = {}
    for path in sorted(folder.glob("*.yaml")):
        where = f"{path.parent.name}/{path.name}"
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ModelDeclarationError(f"{where}: not valid YAML: {exc}") from None
        errors = sorted(jsonschema.Draft202012Validator(MODELS_SCHEMA).iter_errors(data or {}),
                        key=lambda e: list(e.absolute_path))
        if errors:
            err = errors[0]
            at = ".".join(str(p) for p in err.absolute_path) or "(top)"
            raise ModelDeclarationError(f"{where}: {at}: {err.message}")
        for entry in data["models"]:
            repo = entry["repo"]
            if repo.lower() in {r.lower() for r in out}:
                raise ModelDeclarationError(f"{where}: model {repo!r} is declared twice")
            out[repo] = ModelDeclaration(repo, data["family"], data["publisher"], entry.get("title"),
                                         entry.get("notes"), where)
    return list(out.values())


def load_hf_licences(path: str | Path | None = None) -> dict[str, str]:
    """Hub licence id (lower case) -> tracked source id."""
    path = Path(path) if path else HF_LICENCES
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    licences = data.get("licences") or {}
    if not isinstance(licences, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in licences.items()):
        raise ModelDeclarationError(f"{path.name}: `licences` must map Hub licence ids to source ids")
    return {k.lower(): v for k, v in licences.items()}


# ------------------------------------------------------------------ Hub addresses

def raw_url(repo: str, filename: str) -> str:
    return f"{HUB}/{repo}/raw/main/{quote(filename)}"


def repo_files(api: dict[str, Any]) -> list[str]:
    return [s["rfilename"] for s in api.get("siblings") or [] if isinstance(s, dict) and s.get("rfilename")]


def licence_file_url(repo: str, api: dict[str, Any]) -> str | None:
    """The LICENSE text a card links: its ``license_link`` inside the repository (or a relative link), else
    the repository's LICENSE file; ``None`` when the link points elsewhere and the repository has none."""
    link = (api.get("cardData") or {}).get("license_link")
    if isinstance(link, str) and link:
        if not re.match(r"^https?://", link):
            return raw_url(repo, link.lstrip("./"))
        parts = urlsplit(link)
        m = re.match(rf"^/{re.escape(repo)}/(?:blob|resolve|raw)/[^/]+/(.+)$", unquote(parts.path), re.I)
        if parts.netloc.endswith("huggingface.co") and m:
            return raw_url(repo, m.group(1))
    names = [n for n in repo_files(api) if "/" not in n and LICENSE_FILE.match(n)]
    return raw_url(repo, sorted(names, key=len)[0]) if names else None


def follow_ups(repo: str, api: dict[str, Any]) -> list[tuple[str, str]]:
    """``(kind, url)`` of the documents to read after the API answer: the LICENSE text, the README."""
    out = []
    licence = licence_file_url(repo, api)
    if licence:
        out.append(("license", licence))
    if any(n.lower() == "readme.md" for n in repo_files(api)):
        out.append(("readme", raw_url(repo, next(n for n in repo_files(api) if n.lower() == "readme.md"))))
    return out


def replay_url(relative: str) -> str | None:
    """The Hub URL a replay file stands for: ``huggingface.co/api/models/ORG/NAME.json`` is the API answer of
    ORG/NAME, any other ``huggingface.co/...`` path is that file."""
    if not relative.startswith("huggingface.co/"):
        return None
    if relative.startswith("huggingface.co/api/models/") and relative.endswith(".json"):
        relative = relative[:-len(".json")]
    return "https://" + relative
