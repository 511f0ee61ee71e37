"""The criteria: each reads the tags (and a few entities and words) of the clauses and gives a verdict with
the clauses that decide it. Which tags count is in ``rules.yaml``; how they combine is written here.

Absence means something only where a right must be written to be withheld: a threshold, a use policy, an
output ban exists only if a clause says so, so none found is a pass, provided the document grants
something (it is a licence) and every policy it incorporates could be read (else ``unknown``). A freedom,
on the contrary, needs a grant clause (or a duty that presupposes it): without one it is ``unknown``.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

from clausewatch.openness.model import LICENCE, ClauseFacts, Document, Evidence, Verdict
from clausewatch.openness.rules import Criterion, Rules

GRANTS = frozenset({"grant.use", "grant.modify", "grant.distribute", "grant.commercial", "grant.patent"})
MAX_EVIDENCE = 60
DISTRIBUTION_WORDS = ("distribut", "redistribut", "convey", "share", "sublicens", "make available", "copies")


@lru_cache(maxsize=256)
def _cue_pattern(cues: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(re.escape(c) for c in sorted(cues, key=len, reverse=True)) + r")\b", re.I)


def has_cue(text: str, cues: Iterable[str]) -> bool:
    cues = tuple(cues)
    return bool(cues) and bool(_cue_pattern(cues).search(text))


class Context:
    """The clauses being rated (a licence alone, or with the policies it incorporates)."""

    def __init__(self, documents: list[Document], rules: Rules) -> None:
        self.documents = documents
        self.rules = rules
        self.clauses = [c for d in documents if d.stored for c in d.clauses]
        self.unread = [d.name for d in documents if not d.stored]
        self.granting = any(c.role == LICENCE and c.tags & GRANTS for c in self.clauses)

    def tagged(self, tags: Iterable[str], *, where: Callable[[ClauseFacts], bool] | None = None
               ) -> list[tuple[ClauseFacts, str]]:
        """(clause, tag) for every clause carrying one of ``tags`` (its first such tag), in document order."""
        tags = tuple(tags)
        out = []
        for clause in self.clauses:
            tag = next((t for t in tags if t in clause.tags), None)
            if tag and (where is None or where(clause)):
                out.append((clause, tag))
        return out


def evidence(hits: Iterable[tuple[ClauseFacts, str]]) -> list[Evidence]:
    return [Evidence.of(clause, tag) for clause, tag in list(hits)[:MAX_EVIDENCE]]


def paths(hits: list[tuple[ClauseFacts, str]], limit: int = 3) -> str:
    names = list(dict.fromkeys(c.path if c.role == LICENCE else f"{c.document} {c.path}" for c, _ in hits))
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def absence(ctx: Context, crit: Criterion, what: str, supporting: list[tuple[ClauseFacts, str]] | None = None
            ) -> Verdict:
    """No clause restricts: a pass when the document is a licence and every incorporated policy was read."""
    if not ctx.granting:
        return Verdict(crit.id, "unknown", "no clause of the document grants a right, so it cannot be read as a "
                                           f"licence, nor whether a clause {what}")
    if ctx.unread:
        return Verdict(crit.id, "unknown", f"the incorporated {', '.join(ctx.unread)} is not stored, so it is not "
                                           f"known whether one of its clauses {what}")
    return Verdict(crit.id, "pass", f"no clause {what}", evidence=evidence(supporting or []))


def _freedom(ctx: Context, crit: Criterion, name: str) -> tuple[list[tuple[ClauseFacts, str]], str]:
    """Grant clauses of a freedom, else clauses whose duties presuppose it; and how it is shown."""
    grants = ctx.tagged(crit.tags("grant_tags"), where=lambda c: c.role == LICENCE)
    if grants:
        return grants, f"granted by {paths(grants)}"
    implied = ctx.tagged(crit.tags("implied_by"), where=lambda c: c.role == LICENCE and _presupposes(crit, c))
    if implied:
        return implied, (f"implied by the duties {paths(implied)} attaches to it (no clause grants the right to "
                         f"{name} expressly, but a duty on it presupposes it)")
    return [], ""


def _presupposes(crit: Criterion, clause: ClauseFacts) -> bool:
    if crit.id == "redistribute":
        return has_cue(clause.text, ("redistribution", "redistributions", "redistribute", "distribute",
                                     "distribution", "distributions", "convey", "share", "copies"))
    return True


# ------------------------------------------------------------------ the four freedoms

def use_any_purpose(ctx: Context, crit: Criterion) -> Verdict:
    limits = ctx.tagged(crit.tags("fail_tags"))
    if limits:
        kinds = {t for _, t in limits}
        what = [w for t, w in (("restrict.noncommercial", "to non-commercial or research purposes"),
                               ("restrict.use_policy", "by a use policy"),
                               ("restrict.prohibited_use", "by a list of prohibited uses")) if t in kinds]
        detail = "non-commercial" if "restrict.noncommercial" in kinds else "use policy"
        return Verdict(crit.id, "fail", f"use is limited {' and '.join(what)}: {paths(limits)}", detail,
                       evidence(limits))
    grants = ctx.tagged(crit.tags("grant_tags"), where=lambda c: c.role == LICENCE)
    if not grants:
        return Verdict(crit.id, "unknown", "no clause grants the right to use or run the materials")
    if ctx.unread:
        return Verdict(crit.id, "unknown", f"use is granted by {paths(grants)}, but the incorporated "
                                           f"{', '.join(ctx.unread)} is not stored and may limit it", "",
                       evidence(grants))
    broad = ctx.tagged(["grant.commercial"], where=lambda c: c.role == LICENCE and "grant.patent" not in c.tags)
    how = f" (and {paths(broad)} covers any purpose or commercial use)" if broad else ""
    return Verdict(crit.id, "pass", f"use is granted by {paths(grants)}{how}, and no clause limits its purpose",
                   evidence=evidence(grants + [h for h in broad if h[0] not in {g[0] for g in grants}]))


def study(ctx: Context, crit: Criterion) -> Verdict:
    grants = ctx.tagged(crit.tags("grant_tags"), where=lambda c: c.role == LICENCE)
    if not grants:
        return Verdict(crit.id, "unknown", "no clause grants using, copying or modifying the materials")
    return Verdict(crit.id, "pass", f"{paths(grants)} lets the licensee use, copy or modify the materials, so "
                                    "they may be inspected; whether weights, code and data are published is a "
                                    "fact about each model", evidence=evidence(grants))


def redistribute(ctx: Context, crit: Criterion) -> Verdict:
    shown, how = _freedom(ctx, crit, "redistribute")
    if not shown:
        return Verdict(crit.id, "unknown", "no clause grants redistribution of copies")
    conditions = ctx.tagged(crit.tags("conditional_tags"))
    if conditions:
        return Verdict(crit.id, "conditional", f"redistribution is {how}, on condition of {paths(conditions)} "
                                               "(copies keep the licence, its restrictions or the source)",
                       _copyleft_detail(conditions), evidence(shown + conditions))
    return Verdict(crit.id, "pass", f"redistribution is {how}", evidence=evidence(shown))


def modify(ctx: Context, crit: Criterion) -> Verdict:
    shown, how = _freedom(ctx, crit, "modify")
    if not shown:
        return Verdict(crit.id, "unknown", "no clause grants modification or the making of derivative works")
    distribution = ctx.tagged(crit.tags("also_needs"), where=lambda c: c.role == LICENCE)
    if not distribution:
        return Verdict(crit.id, "unknown", f"modification is {how}, but no clause grants distributing modified "
                                           "versions", "", evidence(shown))
    hits = shown + [h for h in distribution if h[0] not in {s[0] for s in shown}]
    conditions = ctx.tagged(crit.tags("conditional_tags"))
    if conditions:
        detail = "naming rule" if all(t == "obligation.naming" for _, t in conditions) else _copyleft_detail(
            [h for h in conditions if h[1] != "obligation.naming"])
        return Verdict(crit.id, "conditional", f"modification is {how} and distribution by {paths(distribution)}, "
                                               f"on condition of {paths(conditions)}", detail,
                       evidence(hits + conditions))
    return Verdict(crit.id, "pass", f"modification is {how} and distribution of modified versions by "
                                    f"{paths(distribution)}", evidence=evidence(hits))


# ------------------------------------------------------------------ commercial use and restrictions

def commercial_use(ctx: Context, crit: Criterion) -> Verdict:
    limited = ctx.tagged(crit.tags("fail_tags"))
    express = ctx.tagged(crit.tags("grant_tags"), where=lambda c: "grant.patent" not in c.tags or bool(
        c.tags & {"grant.use", "grant.modify", "grant.distribute"}))
    thresholds = ctx.tagged(crit.tags("conditional_tags"))
    if limited:
        other_terms = [h for h in express if "restrict.noncommercial" not in h[0].tags]
        if other_terms:
            return Verdict(crit.id, "conditional", f"{paths(limited)} limits use to non-commercial purposes, and "
                                                   f"{paths(other_terms)} allows commercial use only on its terms",
                           threshold_detail(thresholds) or "on terms", evidence(limited + other_terms + thresholds))
        return Verdict(crit.id, "fail", f"use is limited to non-commercial, research or evaluation purposes: "
                                        f"{paths(limited)}", "non-commercial", evidence(limited))
    if thresholds:
        return Verdict(crit.id, "conditional", f"commercial use is allowed up to a threshold: {paths(thresholds)}",
                       threshold_detail(thresholds), evidence(thresholds + express))
    if express:
        return Verdict(crit.id, "pass", f"{paths(express)} expressly covers commercial use (sell, any purpose, "
                                        "without restriction)", evidence=evidence(express))
    grants = ctx.tagged(["grant.use"], where=lambda c: c.role == LICENCE)
    if not grants:
        return Verdict(crit.id, "unknown", "no clause grants use, commercial or otherwise")
    if ctx.unread:
        return Verdict(crit.id, "unknown", f"use is granted by {paths(grants)}, but the incorporated "
                                           f"{', '.join(ctx.unread)} is not stored and may limit it", "",
                       evidence(grants))
    return Verdict(crit.id, "pass", f"use is granted by {paths(grants)} without a purpose limit, and no clause "
                                    "limits it to non-commercial purposes", evidence=evidence(grants))


def _number(value: object) -> str:
    try:
        n = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:g}{suffix}"
    return f"{n:g}"


def threshold_detail(hits: list[tuple[ClauseFacts, str]]) -> str:
    """``700M monthly active users`` / ``USD 1M revenue`` from the entities of threshold clauses."""
    parts = []
    for clause, _ in hits:
        for e in clause.entities:
            if e.type == "USER_THRESHOLD":
                parts.append(f"{_number(e.value)} {(e.unit or 'users').replace('_', ' ')}")
            elif e.type == "MONEY":
                parts.append(f"{e.currency or ''} {_number(e.value)} revenue".strip())
    return ", ".join(dict.fromkeys(parts)) or ("threshold" if hits else "")


def no_threshold(ctx: Context, crit: Criterion) -> Verdict:
    hits = ctx.tagged(crit.tags("fail_tags"))
    if hits:
        detail = threshold_detail(hits)
        return Verdict(crit.id, "fail", f"rights depend on the licensee's size ({detail}): {paths(hits)}", detail,
                       evidence(hits))
    return absence(ctx, crit, "makes rights depend on a user or revenue threshold")


def no_use_restriction(ctx: Context, crit: Criterion) -> Verdict:
    hits = ctx.tagged(crit.tags("fail_tags"))
    if hits:
        items = sum(1 for _, t in hits if t == "restrict.prohibited_use")
        binding = [h for h in hits if h[1] == "restrict.use_policy"]
        detail = ("use policy" if binding else "") + (f"{', ' if binding else ''}{items} prohibited use{'s' if items > 1 else ''}"
                                                      if items else "")
        return Verdict(crit.id, "fail", f"the licensee is bound to use restrictions: {paths(binding or hits)}"
                                        + (f", {items} prohibited use{'s' if items > 1 else ''} listed" if items else ""), detail,
                       evidence(binding + [h for h in hits if h[1] != "restrict.use_policy"]))
    return absence(ctx, crit, "binds use to a use policy or to prohibited uses")


def no_output_restriction(ctx: Context, crit: Criterion) -> Verdict:
    hits = ctx.tagged(crit.tags("fail_tags"))
    if hits:
        return Verdict(crit.id, "fail", f"what may be done with outputs is restricted: {paths(hits)}",
                       "output restriction", evidence(hits))
    cues = crit.tags("conditional_cues")
    duties = ctx.tagged(crit.tags("conditional_tags"), where=lambda c: has_cue(c.text, cues))
    if duties:
        return Verdict(crit.id, "conditional", f"using outputs carries a duty (a name or an attribution for a "
                                               f"model built with them): {paths(duties)}", "duty on outputs",
                       evidence(duties))
    return absence(ctx, crit, "restricts the use of outputs", ctx.tagged(crit.tags("supporting_tags")))


def no_geographic_exclusion(ctx: Context, crit: Criterion) -> Verdict:
    hits = ctx.tagged(crit.tags("fail_tags"))
    # a place named in an export-control or sanctions clause ("located in a sanctioned jurisdiction") is the
    # law's exclusion, not the licensor's: only a place without such law withholds rights by itself
    exclusions = [h for h in hits if not has_cue(h[0].text, crit.tags("law_cues"))]
    if exclusions:
        return Verdict(crit.id, "fail", f"rights are withheld by location, domicile or nationality: "
                                        f"{paths(exclusions)}", "geographic exclusion", evidence(exclusions))
    if hits:
        return Verdict(crit.id, "conditional", f"the licensee must comply with export-control or sanctions law: "
                                               f"{paths(hits)}", "export law", evidence(hits))
    return absence(ctx, crit, "withholds rights by place")


def no_remote_restriction(ctx: Context, crit: Criterion) -> Verdict:
    hits = ctx.tagged(crit.tags("fail_tags"))
    if hits:
        return Verdict(crit.id, "fail", f"the licensor may restrict use remotely or require updates: {paths(hits)}",
                       "remote restriction", evidence(hits))
    return absence(ctx, crit, "lets the licensor restrict use remotely or force updates")


def no_unilateral_changes(ctx: Context, crit: Criterion) -> Verdict:
    hits = ctx.tagged(crit.tags("fail_tags"))
    kept = [h for h in hits if has_cue(h[0].text, crit.tags("keeps_version_cues"))]
    changes = [h for h in hits if h not in kept]
    if changes:
        return Verdict(crit.id, "fail", f"the licensor may change the terms for existing licensees: {paths(changes)}",
                       "terms may change", evidence(changes))
    if kept:
        return Verdict(crit.id, "conditional", f"new versions may be published, but licensees keep the version "
                                               f"they received or may choose: {paths(kept)}", "new versions",
                       evidence(kept))
    return absence(ctx, crit, "lets the licensor change the terms unilaterally")


# ------------------------------------------------------------------ duties

def _copyleft_detail(hits: list[tuple[ClauseFacts, str]]) -> str:
    tags = {t for _, t in hits}
    if any("restrict.use_policy" in c.tags or "restrict.prohibited_use" in c.tags for c, _ in hits):
        return "restrictions flow down"
    if "obligation.disclose_source" in tags:
        return "copyleft (source)"
    return "share-alike" if tags else ""


def copyleft(ctx: Context, crit: Criterion) -> Verdict:
    hits = ctx.tagged(crit.tags("conditional_tags"))
    if hits:
        return Verdict(crit.id, "conditional", f"derived or redistributed works must keep the licence (or its "
                                               f"restrictions) or disclose source: {paths(hits)}",
                       _copyleft_detail(hits), evidence(hits))
    verdict = absence(ctx, crit, "requires derived works to keep the same licence or to disclose source")
    if verdict.verdict == "pass":
        verdict.detail = "permissive"
    return verdict


def attribution(ctx: Context, crit: Criterion) -> Verdict:
    hits = ctx.tagged(crit.tags("conditional_tags"))
    if hits:
        tags = {t for _, t in hits}
        detail = ", ".join(w for t, w in (("obligation.attribution", "notices"), ("obligation.naming", "naming"),
                                          ("obligation.state_changes", "change notes")) if t in tags)
        return Verdict(crit.id, "conditional", f"the licensee must keep notices, ship the licence, mark changes or "
                                               f"name derivatives: {paths(hits)}", detail, evidence(hits))
    return absence(ctx, crit, "requires attribution")


CRITERION_FUNCTIONS: dict[str, Callable[[Context, Criterion], Verdict]] = {
    "use_any_purpose": use_any_purpose, "study": study, "redistribute": redistribute, "modify": modify,
    "commercial_use": commercial_use, "no_threshold": no_threshold, "no_use_restriction": no_use_restriction,
    "no_output_restriction": no_output_restriction, "no_geographic_exclusion": no_geographic_exclusion,
    "no_remote_restriction": no_remote_restriction, "no_unilateral_changes": no_unilateral_changes,
    "copyleft": copyleft, "attribution": attribution,
}
