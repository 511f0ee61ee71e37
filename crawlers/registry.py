"""The source registry: one YAML declaration per tracked document under ``crawlers/sources/``.

What to track is data; how to track it is code. Every declaration is validated against
``SOURCE_SCHEMA``; a bad one raises :class:`DeclarationError` naming the file and the field.
"""
from __future__ import annotations

import os
import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: 4x faster


class DuplicateKeyError(yaml.YAMLError):
    """A mapping that gives one key twice (YAML keeps the last silently: a declaration's typo)."""

    def __init__(self, key: str, mark) -> None:
        super().__init__(f"field {key!r} is given twice")
        self.problem, self.problem_mark = f"field {key!r} is given twice", mark


class SAFE_LOADER(_BASE_LOADER):  # noqa: N801 - a loader class named like the constant it replaces
    """The safe loader, refusing duplicate keys."""


def _mapping_without_duplicates(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise DuplicateKeyError(str(key), key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


SAFE_LOADER.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)

SOURCES_DIR = Path(__file__).parent / "sources"

KINDS = ["license", "use-policy", "regulation", "report", "definition", "guidance", "executive-order", "bill"]
FORMATS = ["html", "pdf", "xml", "markdown", "text"]
ID_PATTERN = r"^[a-z0-9][a-z0-9.\-]*[a-z0-9]$"
# minute hour day-of-month month day-of-week, as APScheduler's CronTrigger.from_crontab reads it
CRON_PATTERN = r"^\S+ \S+ \S+ \S+ \S+$"

ROLES = ["document", "context"]

_selectors = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "keep": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        "remove": {"type": "array", "items": {"type": "string", "minLength": 1}},
        # any format: regular expressions over the extracted blocks (paragraphs, headings, list items)
        "start": {"type": "string", "minLength": 1},
        "end": {"type": "string", "minLength": 1},
        "drop": {"type": "array", "items": {"type": "string", "minLength": 1}},
    },
}

_common = {
    "id": {"type": "string", "pattern": ID_PATTERN, "maxLength": 80},
    "title": {"type": "string", "minLength": 3},
    "publisher": {"type": "string", "minLength": 2},
    "url": {"type": "string", "pattern": r"^https?://[^\s/$.?#][^\s]*$"},
    "schedule": {"type": "string", "pattern": CRON_PATTERN},
    "notes": {"type": "string"},
    "homepage": {"type": "string", "pattern": r"^https?://"},
}

SOURCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "publisher", "jurisdiction", "kind", "family", "version", "url", "format",
                 "schedule"],
    "properties": {
        **_common,
        "jurisdiction": {"type": "string", "pattern": r"^(global|[A-Z]{2}(-[A-Z0-9]{1,3})?)$"},
        "kind": {"enum": KINDS},
        "family": {"type": "string", "pattern": ID_PATTERN},
        "version": {"type": "string", "minLength": 1},
        "date": {"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"},
        "format": {"enum": FORMATS},
        "selectors": _selectors,
        "incorporates": {"type": "array", "items": {"type": "string", "pattern": ID_PATTERN}, "uniqueItems": True},
        # renditions of one document (the HTML, PDF and Formex copies of one act) share a document id
        "document": {"type": "string", "pattern": ID_PATTERN, "maxLength": 80},
        "spdx": {"type": "string"},
        "replay": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
        "max_bytes": {"type": "integer", "minimum": 1024},
        "role": {"enum": ROLES},
        "alert_after_fetches": {"type": "integer", "minimum": 1, "maximum": 1000},
        "template": {"type": "string", "pattern": ID_PATTERN},
    },
}

DISCOVERY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "publisher", "url", "schedule", "discover"],
    "properties": {
        **_common,
        "format": {"const": "json"},
        "replay": {"type": "array", "items": {"type": "string"}},
        "discover": {
            "type": "object",
            "additionalProperties": False,
            "required": ["items", "pattern", "template"],
            "properties": {
                # JSON path (dot-separated keys) to the list of entries, and the entry key holding a path
                "items": {"type": "string"},
                "key": {"type": "string"},
                # regex over the entry's path; its named groups fill the template's {placeholders}
                "pattern": {"type": "string"},
                "template": {
                    "type": "object",
                    "required": ["id", "title", "family", "version", "url", "kind", "format", "jurisdiction",
                                 "publisher"],
                    "additionalProperties": False,
                    "properties": {
                        k: {"type": "string"} for k in
                        ["id", "title", "family", "version", "url", "kind", "format", "jurisdiction", "publisher",
                         "schedule", "incorporates"]
                    },
                },
            },
        },
    },
}


class DeclarationError(ValueError):
    """A source declaration that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    publisher: str
    jurisdiction: str
    kind: str
    family: str
    version: str
    url: str
    format: str
    schedule: str
    date: str | None = None
    selectors: dict | None = None
    incorporates: tuple[str, ...] = ()
    document: str | None = None
    spdx: str | None = None
    replay: tuple[str, ...] = ()
    max_bytes: int | None = None
    notes: str | None = None
    homepage: str | None = None
    role: str = "document"
    alert_after_fetches: int = 1
    template: str | None = None
    declared_in: str | None = None
    discovered_from: str | None = None

    def as_row(self) -> dict[str, Any]:
        """The declaration as a `sources` table row (JSON-able values)."""
        return {
            "source_id": self.id, "title": self.title, "publisher": self.publisher,
            "jurisdiction": self.jurisdiction, "kind": self.kind, "family": self.family,
            "version_label": self.version, "release_date": self.date, "url": self.url, "format": self.format,
            "selectors": self.selectors, "incorporates": list(self.incorporates), "document": self.document,
            "schedule": self.schedule,
            "spdx": self.spdx, "declared_in": self.declared_in, "discovered_from": self.discovered_from,
            "notes": self.notes, "role": self.role, "alert_after_fetches": self.alert_after_fetches,
            "template": self.template,
        }


@dataclass(frozen=True)
class Discovery:
    id: str
    title: str
    publisher: str
    url: str
    schedule: str
    items: str
    pattern: str
    template: dict[str, str]
    key: str = "path"
    replay: tuple[str, ...] = ()
    declared_in: str | None = None
    notes: str | None = None

    def sources_from_listing(self, listing: Any) -> list[Source]:
        """Turn a fetched JSON listing into source declarations, one per entry matching the pattern."""
        entries: Any = listing
        for key in [k for k in self.items.split(".") if k]:
            entries = entries.get(key, []) if isinstance(entries, dict) else []
        found: dict[str, Source] = {}
        regex = re.compile(self.pattern)
        for entry in entries if isinstance(entries, list) else []:
            value = entry.get(self.key) if isinstance(entry, dict) else entry
            match = regex.fullmatch(value) if isinstance(value, str) else None
            if not match:
                continue
            groups = {k: v for k, v in match.groupdict().items() if v is not None}
            groups["path"] = value
            groups["version_dotted"] = groups.get("version", "").replace("_", ".")
            filled = {k: v.format(**groups) for k, v in self.template.items()}
            incorporates = tuple(x for x in filled.pop("incorporates", "").split(",") if x)
            filled.setdefault("schedule", self.schedule)
            data = {**filled, "incorporates": list(incorporates)} if incorporates else filled
            source = _build_source(data, f"{self.declared_in} (discovered from {value})")
            found[source.id] = Source(**{**source.__dict__, "discovered_from": self.id})
        return list(found.values())


def _error_for(err: jsonschema.ValidationError, where: str) -> DeclarationError:
    field_path = ".".join(str(p) for p in err.absolute_path)
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return DeclarationError(f"{where}: field '{missing}' is required")
    if err.validator == "additionalProperties":
        return DeclarationError(f"{where}: {err.message}")
    shown = repr(err.instance) if len(repr(err.instance)) < 80 else repr(err.instance)[:77] + "..."
    return DeclarationError(f"{where}: field '{field_path or '(top)'}' is invalid: {shown} ({err.validator})")


def _validate(data: Any, schema: dict, where: str) -> None:
    if not isinstance(data, dict):
        raise DeclarationError(f"{where}: a declaration must be a YAML mapping, got {type(data).__name__}")
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise _error_for(errors[0], where)


def _check_schedule(schedule: str, where: str, field_name: str = "schedule") -> None:
    """A cron line APScheduler accepts, with no numeric day of week (cron reads 0 as Sunday, APScheduler 3 as Monday)."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(schedule, timezone="UTC")
    except ValueError as exc:
        raise DeclarationError(f"{where}: field '{field_name}' is not a valid cron expression: {exc}") from None
    day_of_week = schedule.split()[4]
    if re.search(r"[0-9]", day_of_week):
        raise DeclarationError(
            f"{where}: field '{field_name}' ({schedule!r}) must name days of the week (mon..sun, mon-fri), not numbers: "
            "cron reads 0 as Sunday but APScheduler 3 reads it as Monday")


def _build_source(data: dict, where: str) -> Source:
    if not isinstance(data, dict):
        raise DeclarationError(f"{where}: a declaration must be a YAML mapping, got {type(data).__name__}")
    if isinstance(data.get("version"), float):
        raise DeclarationError(f"{where}: field 'version' ({data['version']!r}) must be quoted: YAML reads it as a "
                               "number (3.10 would become 3.1)")
    data = {k: (str(v) if k in ("version", "date") and v is not None else v) for k, v in data.items()}
    _validate(data, SOURCE_SCHEMA, where)
    _check_schedule(data["schedule"], where)
    for key in ("start", "end", *[f"drop.{k}" for k in range(len((data.get("selectors") or {}).get("drop") or []))]):
        pattern = _selector_pattern(data.get("selectors") or {}, key)
        if pattern is None:
            continue
        try:
            re.compile(pattern)
        except re.error as exc:
            raise DeclarationError(f"{where}: field 'selectors.{key}' is not a valid regex: {exc}") from None
    return Source(
        **{k: v for k, v in data.items() if k not in ("incorporates", "replay")},
        incorporates=tuple(data.get("incorporates", ())),
        replay=tuple(data.get("replay", ())),
        declared_in=where,
    )


def _selector_pattern(selectors: dict, key: str) -> str | None:
    if key.startswith("drop."):
        return selectors["drop"][int(key.split(".")[1])]
    return selectors.get(key)


def _check_template(template: dict[str, str], regex: re.Pattern, where: str) -> None:
    """Fail at load time, not mid-crawl: every placeholder must be captured, and a filled-in template must be valid."""
    known = {*regex.groupindex, "path", "version_dotted"}
    for key, value in template.items():
        try:
            names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
        except ValueError as exc:
            raise DeclarationError(f"{where}: field 'discover.template.{key}' is not a valid template: {exc}") from None
        unknown = sorted(names - known)
        if unknown:
            raise DeclarationError(
                f"{where}: field 'discover.template.{key}' uses {{{unknown[0]}}}, which the pattern does not capture "
                f"(available: {', '.join(sorted(known))})")
    sample = {name: "1" for name in known}
    data = {k: v.format(**sample) for k, v in template.items()}
    refs = [x for x in data.pop("incorporates", "").split(",") if x]
    data.setdefault("schedule", "0 0 * * *")
    try:
        _build_source({**data, "incorporates": refs} if refs else data, where)
    except DeclarationError as exc:
        detail = str(exc).removeprefix(f"{where}: ")
        raise DeclarationError(f"{where}: discover.template gives an invalid declaration: {detail}") from None


def load_file(path: Path) -> Source | Discovery:
    where = str(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DeclarationError(f"{where}: not valid YAML{at}: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DeclarationError(f"{where}: cannot be read: {exc}") from None
    if isinstance(data, dict) and "discover" in data:
        _validate(data, DISCOVERY_SCHEMA, where)
        disc = data["discover"]
        try:
            regex = re.compile(disc["pattern"])
        except re.error as exc:
            raise DeclarationError(f"{where}: field 'discover.pattern' is not a valid regex: {exc}") from None
        _check_schedule(data["schedule"], where)
        _check_template(disc["template"], regex, where)
        return Discovery(id=data["id"], title=data["title"], publisher=data["publisher"], url=data["url"],
                         schedule=data["schedule"], items=disc["items"], pattern=disc["pattern"],
                         template=disc["template"], key=disc.get("key", "path"),
                         replay=tuple(data.get("replay", ())), declared_in=where, notes=data.get("notes"))
    source = _build_source(data, where)
    if path.stem != source.id:
        raise DeclarationError(f"{where}: field 'id' ({source.id!r}) must match the file name ({path.stem!r})")
    return source


@dataclass
class Registry:
    sources: dict[str, Source] = field(default_factory=dict)
    discoveries: dict[str, Discovery] = field(default_factory=dict)
    directory: Path | None = None

    def all_ids(self) -> list[str]:
        return sorted([*self.sources, *self.discoveries])


def load_registry(directory: Path | str | None = None) -> Registry:
    """Load and validate every ``*.yaml`` declaration; cross-checks ids and ``incorporates``."""
    directory = Path(directory or os.environ.get("CLAUSEWATCH_SOURCES") or SOURCES_DIR)
    if not directory.is_dir():
        raise DeclarationError(f"{directory}: source directory not found")
    registry = Registry(directory=directory)
    for path in sorted(directory.glob("*.yaml")):
        item = load_file(path)
        other = registry.sources.get(item.id) or registry.discoveries.get(item.id)
        if other is not None:
            raise DeclarationError(f"{path}: field 'id' ({item.id!r}) is declared twice (also in {other.declared_in})")
        target = registry.discoveries if isinstance(item, Discovery) else registry.sources
        target[item.id] = item
    from clausewatch.crawlers.templates import BUILTIN_TEMPLATES

    for source in registry.sources.values():
        for ref in source.incorporates:
            if ref not in registry.sources:
                raise DeclarationError(f"{source.declared_in}: field 'incorporates' names unknown source {ref!r}")
        if source.template is not None:
            if source.template == source.id:
                raise DeclarationError(f"{source.declared_in}: field 'template' names the source itself")
            if source.template not in registry.sources and source.template not in BUILTIN_TEMPLATES:
                raise DeclarationError(
                    f"{source.declared_in}: field 'template' names neither a declared source nor a built-in template "
                    f"({source.template!r}; built-in: {', '.join(sorted(BUILTIN_TEMPLATES))})")
    _check_documents(registry)
    return registry


def _check_documents(registry: Registry) -> None:
    """Renditions of one document: at least two sources, of one family, and the id is no other source's id."""
    renditions: dict[str, list[Source]] = {}
    for source in registry.sources.values():
        if source.document:
            renditions.setdefault(source.document, []).append(source)
    for document, sources in sorted(renditions.items()):
        first = sources[0]
        if len(sources) < 2:
            raise DeclarationError(f"{first.declared_in}: field 'document' ({document!r}) names no other rendition: "
                                   "declare the same document id in every rendition (HTML, PDF ...) or remove it")
        if document in registry.sources and registry.sources[document].document != document:
            raise DeclarationError(f"{first.declared_in}: field 'document' ({document!r}) is the id of another source")
        other = next((s for s in sources if s.family != first.family), None)
        if other is not None:
            raise DeclarationError(f"{other.declared_in}: field 'document' ({document!r}): renditions of one document "
                                   f"must share a family ({other.family!r} is not {first.family!r})")
