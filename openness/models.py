"""Models -> licences (pure): what a Hugging Face model card says about its licence, which tracked licence
that is, whether the LICENSE text it links is that licence, and which components (weights, code, data)
the card declares. Nothing here fetches or stores: the JSON of ``/api/models/{repo}``, the texts of
LICENSE and README files and the tracked sources come in as arguments.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".onnx", ".nemo")
CHECKPOINT_DIR = re.compile(r"^(?:ckpt|checkpoint)[\w.-]*/[^/]+$", re.I)   # tensor shards without a suffix
NOT_WEIGHTS = ("training_args", "optimizer", "scheduler", "rng_state", "tokenizer")
CODE_LINK = re.compile(r"https?://(?:www\.)?(github\.com|gitlab\.com)/([\w.-]+)/([\w.-]+)")
# shingles of this many words compare two licence texts; a text "is" a licence when it holds nearly all
# of that licence's shingles and they make up a good part of it (a LICENSE file may add a notice)
SHINGLE = 5
CONTAINED = 0.9
COVERS = 0.4


@dataclass(frozen=True)
class CardLicence:
    license: str | None
    license_name: str | None
    license_link: str | None
    tags: tuple[str, ...] = ()        # the ``license:...`` tags of the repository

    @property
    def named(self) -> str | None:
        """The licence id the card names: ``license_name`` when ``license`` is ``other``."""
        if self.license and self.license.lower() not in ("other", "unknown"):
            return self.license.lower()
        return self.license_name.lower() if self.license_name else None

    def describe(self) -> str:
        parts = [f"license: {self.license or '-'}"]
        if self.license_name:
            parts.append(f"license_name: {self.license_name}")
        if self.license_link:
            parts.append(f"license_link: {self.license_link}")
        return ", ".join(parts)


def card_licence(api: dict[str, Any]) -> CardLicence:
    """The licence fields of a model's API answer (front matter in ``cardData``, ``license:`` tags)."""
    card = api.get("cardData") or {}
    value = card.get("license")
    if isinstance(value, list):  # a card may list several; the first is what the Hub shows
        value = value[0] if value else None
    tags = tuple(t.split(":", 1)[1] for t in api.get("tags") or [] if isinstance(t, str) and t.startswith("license:"))
    return CardLicence(str(value) if value else (tags[0] if tags else None),
                       str(card["license_name"]) if card.get("license_name") else None,
                       str(card["license_link"]) if card.get("license_link") else None, tags)


def siblings(api: dict[str, Any]) -> list[str]:
    return [s["rfilename"] for s in api.get("siblings") or [] if isinstance(s, dict) and s.get("rfilename")]


def normalise_url(url: str | None) -> str:
    """A URL compared with tracked sources: https, no query or fragment, GitHub and Hub pages as raw files."""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    host, path = parts.netloc.lower().removeprefix("www."), unquote(parts.path).rstrip("/")
    m = re.match(r"^/([^/]+)/([^/]+)/blob/([^/]+)/(.+)$", path)
    if host == "github.com" and m:
        host, path = "raw.githubusercontent.com", f"/{m.group(1)}/{m.group(2)}/{m.group(3)}/{m.group(4)}"
    if host == "raw.githubusercontent.com":
        path = re.sub(r"^/([^/]+)/([^/]+)/(?:refs/heads/)?(?:main|master|HEAD)/", r"/\1/\2/main/", path)
    if host == "huggingface.co":
        path = re.sub(r"^/(.+?)/(?:blob|resolve)/([^/]+)/", r"/\1/raw/\2/", path)
    return f"{host}{path}".lower()


@dataclass(frozen=True)
class Match:
    source_id: str | None
    matched_by: str | None
    detail: str


def source_by_url(url: str | None, sources: list[dict[str, Any]]) -> dict[str, Any] | None:
    key = normalise_url(url)
    if not key:
        return None
    for source in sources:
        if key in (normalise_url(source.get("url")), normalise_url(source.get("homepage"))):
            return source
    return None


def named_source(card: CardLicence, sources: list[dict[str, Any]], hf_ids: dict[str, str]) -> Match:
    """The tracked source the card's licence id names (Hub id, ``license_name``, or an SPDX id)."""
    by_id = {s["source_id"]: s for s in sources}
    name = card.named
    if not name:
        return Match(None, None, f"the card names no licence ({card.describe()})")
    how = "license_name" if card.license and card.license.lower() in ("other", "unknown") else "hf_licence_id"
    target = hf_ids.get(name)
    if target in by_id:
        return Match(target, how, f"{how} {name!r} is {target}")
    spdx = [s for s in sources if (s.get("spdx") or "").lower() == name]
    if spdx:
        return Match(spdx[0]["source_id"], "spdx", f"SPDX id {name!r} is {spdx[0]['source_id']}")
    return Match(None, None, f"{name!r} is not a tracked licence ({card.describe()})")


def shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i:i + SHINGLE]) for i in range(max(len(words) - SHINGLE + 1, 0))}


@dataclass(frozen=True)
class TextMatch:
    source_id: str
    contained: float       # share of the tracked licence's shingles found in the text
    covers: float          # share of the text's shingles that are the tracked licence's

    @property
    def is_match(self) -> bool:
        return self.contained >= CONTAINED and self.covers >= COVERS


def compare_texts(text: str, licences: dict[str, str]) -> list[TextMatch]:
    """How much of each tracked licence text (``{source_id: text}``) ``text`` holds, best first."""
    mine = shingles(text)
    out = []
    for source_id, other in licences.items():
        theirs = shingles(other)
        if not mine or not theirs:
            continue
        common = len(mine & theirs)
        out.append(TextMatch(source_id, round(common / len(theirs), 3), round(common / len(mine), 3)))
    return sorted(out, key=lambda m: (m.is_match, m.contained + m.covers), reverse=True)


def same_licence(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Two tracked sources of one licence text: the same source, SPDX id, or family and version label."""
    if a is None or b is None:
        return False
    if a["source_id"] == b["source_id"]:
        return True
    if a.get("spdx") and a.get("spdx") == b.get("spdx"):
        return True
    return bool(a.get("family")) and a.get("family") == b.get("family") and a.get("version_label") == b.get(
        "version_label")


# ------------------------------------------------------------------ components

@dataclass(frozen=True)
class Component:
    component: str          # weights | code | data
    value: str
    source: str             # where the card says so
    detail: str = ""


def components(api: dict[str, Any], readme: str | None = None) -> list[Component]:
    """What the card declares: weight files in the repository, training datasets in its front matter or
    tags, code repositories its README links to. Nothing is inferred beyond what is written."""
    out: list[Component] = []
    files = siblings(api)
    weights = [f for f in files if (f.lower().endswith(WEIGHT_SUFFIXES) or CHECKPOINT_DIR.match(f))
               and not f.rsplit("/", 1)[-1].lower().startswith(NOT_WEIGHTS)]
    if weights:
        formats = sorted({f.rsplit(".", 1)[-1].lower() if "." in f.rsplit("/", 1)[-1] else "checkpoint shards"
                          for f in weights})
        gated = api.get("gated")
        out.append(Component("weights", "published", "hub:siblings",
                             f"{len(weights)} weight files ({', '.join(formats)})"
                             + (f"; gated ({gated} approval)" if gated else "")))
    elif files:
        out.append(Component("weights", "not in the repository", "hub:siblings",
                             f"{len(files)} files, none of them weights"))
    card = api.get("cardData") or {}
    datasets = card.get("datasets") or []
    if isinstance(datasets, str):
        datasets = [datasets]
    for name in datasets:
        out.append(Component("data", str(name), "cardData.datasets"))
    for tag in api.get("tags") or []:
        if isinstance(tag, str) and tag.startswith("dataset:") and tag[8:] not in datasets:
            out.append(Component("data", tag[8:], "hub:tags"))
    if readme:
        seen = set()
        for line in readme.splitlines():
            for m in CODE_LINK.finditer(line):
                url = f"https://{m.group(1)}/{m.group(2)}/{m.group(3).removesuffix('.git').rstrip('.')}"
                if url.lower() not in seen:
                    seen.add(url.lower())
                    out.append(Component("code", url, "README", " ".join(line.split())[:200]))
    return out


LEVELS = ("closed", "open weights", "open source", "fully open")


def openness_level(parts: list[Component], licence_class: str | None) -> tuple[str, str]:
    """Where the model sits on the common spectrum, from declared facts only (``unknown`` without them):
    open weights (weights published), open source (and under an open licence), fully open (and the card
    declares training data and links code)."""
    weights = next((c for c in parts if c.component == "weights"), None)
    if weights is None:
        return "unknown", "the repository listing was not read"
    if weights.value != "published":
        return "closed", "no weight files in the repository"
    if licence_class not in ("open", "open-with-conditions"):
        why = f"its licence is {licence_class}" if licence_class else "its licence is not rated"
        return "open weights", f"weights are published, but {why}"
    data = [c.value for c in parts if c.component == "data"]
    code = [c.value for c in parts if c.component == "code"]
    if data and code:
        return "fully open", f"open licence, training data declared ({', '.join(data[:3])}), code linked ({code[0]})"
    missing = [w for w, have in (("training data", data), ("code", code)) if not have]
    return "open source", f"open licence on the weights; the card declares no {' or '.join(missing)}"


@dataclass
class LinkResult:
    """The outcome of linking one model: its licence source, how, and a flag when the card and the LICENSE
    text disagree."""
    source_id: str | None
    matched_by: str | None
    detail: str
    flag: str | None = None
    file_source_id: str | None = None
    similarity: float | None = None
    notes: list[str] = field(default_factory=list)


def link_model(api: dict[str, Any], licence_text: str | None, licence_url: str | None, sources: list[dict[str, Any]],
               licence_texts: dict[str, str], hf_ids: dict[str, str]) -> LinkResult:
    """Which tracked licence governs the model, and whether its card contradicts the LICENSE it links.

    ``sources``: tracked licence sources (``source_id``, ``url``, ``homepage``, ``spdx``, ``family``,
    ``version_label``); ``licence_texts``: their latest stored texts; ``licence_text``: the LICENSE file the
    card links (``None`` when it could not be read). The text, when it is a tracked licence, is what the
    model is linked to; else a tracked URL the card links; else the licence id the card names.
    """
    card = card_licence(api)
    by_id = {s["source_id"]: s for s in sources}
    named = named_source(card, sources, hf_ids)
    named_src = by_id.get(named.source_id) if named.source_id else None
    file_url = licence_url
    at_url = source_by_url(card.license_link, sources) or source_by_url(file_url, sources)
    notes = [named.detail]
    if licence_text:
        matches = {m.source_id: m for m in compare_texts(licence_text, licence_texts)}
        ranked = sorted(matches.values(), key=lambda m: (m.is_match, m.contained + m.covers), reverse=True)
        best = ranked[0] if ranked and ranked[0].is_match else None
        of_named = matches.get(named.source_id) if named.source_id else None
        if of_named and of_named.is_match:
            return LinkResult(named.source_id, named.matched_by,
                              f"{named.detail}; the LICENSE text is that licence (holds {of_named.contained:.0%} of it)",
                              file_source_id=named.source_id, similarity=of_named.contained)
        where = file_url or card.license_link
        if best is not None:
            result = LinkResult(best.source_id, "license_text",
                                f"the LICENSE text ({where}) is {best.source_id} (holds {best.contained:.0%} of it)",
                                file_source_id=best.source_id, similarity=best.contained, notes=notes)
            if named_src is not None and not same_licence(named_src, by_id[best.source_id]):
                result.flag = (f"the card names {named.source_id} ({card.describe()}) but the LICENSE it links is "
                               f"{best.source_id}")
            return result
        if of_named is not None:  # the named licence is stored, and the LICENSE text is not it
            return LinkResult(named.source_id, named.matched_by, named.detail, flag=(
                f"the card names {named.source_id} ({card.describe()}) but the LICENSE it links ({where}) is not "
                f"that licence (holds {of_named.contained:.0%} of its text) nor another tracked licence"),
                similarity=of_named.contained, notes=notes)
        notes.append(f"the LICENSE text ({where}) is no tracked licence")
    if at_url is not None:
        result = LinkResult(at_url["source_id"], "license_link" if source_by_url(card.license_link, sources)
                            else "repo_license_file", f"the card links the tracked {at_url['source_id']}",
                            notes=notes)
        if named_src is not None and not same_licence(named_src, at_url):
            result.flag = f"the card names {named.source_id} ({card.describe()}) but links {at_url['source_id']}"
        return result
    return LinkResult(named.source_id, named.matched_by, "; ".join(notes))
