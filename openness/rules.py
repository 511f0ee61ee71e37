"""The openness rule as data: criteria (which tags decide them) and classes, read from ``rules.yaml``.

Pure: :func:`parse_rules` takes the YAML text; the app reads the file (``clausewatch.stages.rate.load_rules``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from clausewatch.openness.model import VERDICTS

# Bump when the code of a criterion (clausewatch.openness.criteria) changes; the YAML has its own version.
CRITERIA_VERSION = 1
CRITERIA = ("use_any_purpose", "study", "redistribute", "modify", "commercial_use", "no_threshold",
            "no_use_restriction", "no_output_restriction", "no_geographic_exclusion", "no_remote_restriction",
            "no_unilateral_changes", "copyleft", "attribution")
LIST_KEYS = ("grant_tags", "fail_tags", "conditional_tags", "implied_by", "also_needs", "supporting_tags",
             "conditional_cues", "law_cues", "keeps_version_cues")


class RuleError(ValueError):
    """The rule file is not usable (one line naming the entry)."""


@dataclass(frozen=True)
class Criterion:
    id: str
    label: str
    short: str
    question: str
    freedom: bool = False
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def tags(self, key: str) -> tuple[str, ...]:
        return self.lists.get(key, ())


@dataclass(frozen=True)
class ClassRule:
    id: str
    label: str
    description: str
    any_of: dict[str, tuple[str, ...]] = field(default_factory=dict)
    all_of: dict[str, tuple[str, ...]] = field(default_factory=dict)
    otherwise: bool = False


@dataclass(frozen=True)
class Rules:
    version: int
    criteria: dict[str, Criterion]
    classes: tuple[ClassRule, ...]

    @property
    def rule_version(self) -> str:
        """What a rating records: the criteria code and the rule data that made it."""
        return f"criteria{CRITERIA_VERSION}+rules{self.version}"

    def label(self, criterion: str) -> str:
        return self.criteria[criterion].label


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleError(f"{where}: must be a list of strings")
    return tuple(value)


def _verdict_map(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        raise RuleError(f"{where}: must map criteria to lists of verdicts")
    out = {}
    for criterion, verdicts in value.items():
        if criterion not in CRITERIA:
            raise RuleError(f"{where}: unknown criterion {criterion!r}")
        verdicts = _strings(verdicts, f"{where}.{criterion}")
        bad = [v for v in verdicts if v not in VERDICTS]
        if bad:
            raise RuleError(f"{where}.{criterion}: unknown verdict {bad[0]!r} (one of {', '.join(VERDICTS)})")
        out[criterion] = verdicts
    return out


def parse_rules(text: str) -> Rules:
    """The rule from the YAML text of ``rules.yaml``; :class:`RuleError` names what is wrong."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleError(f"rules: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
        raise RuleError("rules: a mapping with an integer `version` is required")
    raw = data.get("criteria") or {}
    missing = [c for c in CRITERIA if c not in raw]
    extra = [c for c in raw if c not in CRITERIA]
    if missing or extra:
        raise RuleError(f"rules: criteria missing {missing} or unknown {extra}")
    criteria = {}
    for cid in CRITERIA:
        entry = raw[cid] or {}
        if not entry.get("label"):
            raise RuleError(f"rules: criteria.{cid}.label is required")
        unknown = set(entry) - {"label", "short", "question", "freedom", *LIST_KEYS}
        if unknown:
            raise RuleError(f"rules: criteria.{cid}: unknown field {sorted(unknown)[0]!r}")
        lists = {key: _strings(entry[key], f"criteria.{cid}.{key}") for key in LIST_KEYS if key in entry}
        criteria[cid] = Criterion(cid, entry["label"], entry.get("short") or cid, entry.get("question") or "",
                                  bool(entry.get("freedom")), lists)
    classes = []
    for k, entry in enumerate(data.get("classes") or []):
        if not isinstance(entry, dict) or not entry.get("id") or not entry.get("label"):
            raise RuleError(f"rules: classes[{k}] needs an id and a label")
        rule = ClassRule(entry["id"], entry["label"], entry.get("description") or "",
                         _verdict_map(entry.get("any_of") or {}, f"classes.{entry['id']}.any_of"),
                         _verdict_map(entry.get("all_of") or {}, f"classes.{entry['id']}.all_of"),
                         bool(entry.get("otherwise")))
        if not (rule.any_of or rule.all_of or rule.otherwise):
            raise RuleError(f"rules: classes.{rule.id} has no condition (any_of, all_of or otherwise)")
        classes.append(rule)
    if not classes or not classes[-1].otherwise:
        raise RuleError("rules: the last class must be `otherwise: true` (every rating gets a class)")
    return Rules(data["version"], criteria, tuple(classes))
