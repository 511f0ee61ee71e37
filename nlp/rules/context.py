"""What a clause gets from its document: the document kind, tags inherited from the chapeau that
introduces it, suppressions required by the labelling rules, and the duty an open-source exemption
lifts (read from the clauses it references).

Rulings implemented here (../shared/gold/README.md):
- items listed under a prohibition, a fine, a definition or an instruction carry that kind's tag
  (restrict.prohibited_use, policy.penalty, policy.definition, policy.recommendation, and
  policy.prohibited_practice for a law's list of prohibited practices) plus their own topics; a
  regulation's chapeau also passes on its duty topic (documentation, systemic risk, transparency,
  openness criteria, training-data or copyright duty); an item that incorporates a use policy keeps
  restrict.use_policy instead of restrict.prohibited_use;
- an item under "Key policies ... include:" in a report or order is a recommendation;
- a definition carries policy.definition plus only operative content (a threshold, "as updated
  from time to time");
- fines carry policy.penalty only; reporting/contact lines carry nothing;
- an open-source exemption also carries the topic of the duty it lifts (the referenced clauses).
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from clausewatch.nlp.model import Segment

KIND_TAGS = {"restrict.prohibited_use", "policy.penalty", "policy.definition", "policy.recommendation",
             "policy.prohibited_practice"}
TOPIC_TAGS = {"policy.documentation", "policy.systemic_risk", "policy.transparency", "policy.openness_criteria",
              "policy.training_data_transparency", "policy.copyright"}
REF_TOPICS = {"policy.documentation", "policy.copyright", "policy.training_data_transparency",
              "policy.transparency", "policy.governance"}
DEFINITION_KEEPS = {"policy.definition", "licensor.update_terms", "restrict.scale_threshold",
                    "policy.compute_threshold", "policy.timeline"}
REPORTING_RE = re.compile(r"^\W*(?:please\s+)?report(?:ing)?\b|\bcontact us\b|^\W*(?:questions|contact)\b", re.I)

# substring counts (not regexes): documents are large and this runs once per document
_KIND_WORDS: dict[str, dict[str, float]] = {
    "law": {"member state": 3, "this regulation": 3, "this directive": 3, "union law": 3, "this act ": 3,
            "this act,": 3, "this act.": 3, "legislature": 3, "legislative": 2, "the people of the state": 3,
            "this chapter": 2, "this division": 2, "this section": 1, "statutes": 2, "shall become operative": 3,
            "civil penalty": 2, "code of regulations": 2, "legislative counsel": 5, "an act to": 3,
            "approved by governor": 5, "professions code": 3, "government code": 3},
    "policy": {"executive order": 2, "the secretary": 1.5, "agency": 1, "agencies": 1.5, "federal": 1,
               "president": 1, "this order": 2, "action plan": 2, "the administration": 1.5, "memorandum": 1.5,
               "guidelines": 1, "stakeholders": 1, "policymakers": 1.5, "we recommend": 2},
    "licence": {"licensee": 2, "licensor": 2, "this license": 2, "this licence": 2, "this agreement": 2,
                "terms of use": 2, "use policy": 2, "acceptable use": 2, "you agree": 2, "hereby grant": 2,
                "you may": 1, "you must": 1, "license": 0.5, "licence": 0.5},
}


KIND_SAMPLE = 150_000


def document_kind(segments: Sequence[Segment]) -> str:
    """'law' (regulations, bills), 'policy' (executive orders, reports, plans) or 'licence' (licences,
    use policies, definitions of openness): the rules that only make sense in one kind use it."""
    parts, size = [], 0
    for seg in segments:               # the first 150,000 characters tell the kind; counting further costs
        parts.append(seg.text)         # more than the rest of tagging on long regulations
        size += len(seg.text) + 1
        if size > KIND_SAMPLE:
            break
    text = " ".join(parts).lower()
    scores = {kind: sum(text.count(w) * weight for w, weight in words.items()) for kind, words in _KIND_WORDS.items()}
    articles = sum(1 for s in segments if (s.path or "").startswith("Article "))
    scores["law"] += articles * 0.5
    best = max(scores, key=lambda k: (scores[k], k == "licence"))
    return best if scores[best] > 0 else "licence"


_OPEN_WORDS = ("open source", "open-source", "open weights", "open-weight", "freedoms")
_OPENNESS_NAMES = ("definition of open", "open source definition", "open weights definition",
                   "open source ai definition", "free software definition")


def openness_document(segments: Sequence[Segment]) -> bool:
    """Does the document define what counts as open (an open source / open weights definition)? Its
    requirements are then openness criteria. A licence that grants rights is not such a definition."""
    text = " ".join(s.text for s in segments[:600]).lower()
    if "definition" not in text or "hereby grant" in text:
        return False
    if any(name in text for name in _OPENNESS_NAMES):
        return True
    return sum(text.count(w) for w in _OPEN_WORDS) >= 3


def is_chapeau(text: str) -> bool:
    stripped = text.rstrip().lower()
    return stripped.endswith((":", "the following", "as follows", "following:", "—", "–"))


def parent_index(i: int, segments: Sequence[Segment], by_ordinal: dict[int, int], structured: bool) -> int | None:
    """The chapeau that introduces segment ``i``: the segmenter's parent; for segments that carry no
    structure at all (built by hand), the nearest preceding clause that ends with a colon, scanning
    back over the labelled siblings of a list."""
    seg = segments[i]
    if seg.parent is not None:
        return by_ordinal.get(seg.parent)
    if structured or (seg.label is None and seg.depth == 0):
        return None
    for j in range(i - 1, max(i - 60, -1), -1):
        prev = segments[j]
        if is_chapeau(prev.text) and prev.depth <= seg.depth:
            return j
        if prev.label is None and prev.depth == 0 and not is_chapeau(prev.text):
            return None
        if prev.depth < seg.depth:
            return None
    return None


def inherited(parent_tags: set[str], parent_text: str, parent_cues: set[str], kind: str) -> dict[str, str]:
    """tag -> reason, for the tags an item takes from its chapeau."""
    if not is_chapeau(parent_text):
        return {}
    out: dict[str, str] = {}
    if parent_tags & {"restrict.use_policy", "restrict.prohibited_use"}:
        out["restrict.prohibited_use"] = "item of a list of forbidden uses"
    for tag in (KIND_TAGS - {"restrict.prohibited_use"}) & parent_tags:
        out[tag] = "item of a list introduced by a clause of this kind"
    for tag in TOPIC_TAGS & parent_tags:
        out[tag] = "item of a duty's list"
    if kind == "policy" and "POLICY_LIST" in parent_cues and "REVOKED" not in parent_cues:
        out["policy.recommendation"] = "item of a list of policies/actions"
    return out


_USE_HEADING = re.compile(r"prohibited use|restricted use|use restriction|acceptable use|prohibited activit", re.I)
_ACTION_HEADING = re.compile(r"recommend|policy actions|action items|next steps", re.I)
IMPERATIVES = frozenset("""establish develop revise convene create expand prioritize ensure issue publish launch promote
support invest encourage require review update remove streamline identify assess consider provide build lead led work
partner pursue advance facilitate fund collaborate coordinate designate direct implement conduct continue adopt explore
increase reduce strengthen combat deploy evaluate submit solicit examine study monitor""".split())


def inherited_from_heading(seg: Segment, first_word: str, kind: str) -> dict[str, str]:
    """A list item without a chapeau takes its kind from its heading: an item under "Prohibited Uses"
    is a prohibited use; an item under "Recommended Policy Actions", or an item opening with an
    imperative verb in an order or report, is a recommendation."""
    if seg.label is None:
        return {}
    heading = " ".join((*seg.headings, seg.heading or ""))
    if kind == "licence" and _USE_HEADING.search(heading):
        return {"restrict.prohibited_use": "item under a heading of prohibited uses"}
    if kind == "policy" and (_ACTION_HEADING.search(heading) or first_word.lower() in IMPERATIVES):
        return {"policy.recommendation": "item of a list of actions"}
    return {}


def suppress(tags: dict, own_definition: bool, has_compute_number: bool, text: str) -> dict:
    """Apply the labelling rulings that remove tags (tags: tag -> TagHit)."""
    if ("eport" in text or "ontact" in text or "uestions" in text) and REPORTING_RE.search(text):
        return {}
    if own_definition:
        tags = {t: h for t, h in tags.items() if t in DEFINITION_KEEPS}
        if not has_compute_number:
            tags.pop("policy.compute_threshold", None)
    if "policy.penalty" in tags:
        tags = {"policy.penalty": tags["policy.penalty"]}
    return tags


_PATH_PART = re.compile(r"^\(?([0-9]+[a-z]?|[a-z]{1,4})\)?\.?$")


def path_key(path: str) -> str | None:
    """'Article 53 > 1 > (a)' -> 'Article 53(1)(a)' (the form ARTICLE_REF values take)."""
    parts = [p.strip() for p in (path or "").split(">")]
    for k, part in enumerate(parts):
        if part.startswith(("Article ", "Section ")):
            key = part
            for rest in parts[k + 1:]:
                m = _PATH_PART.match(rest)
                if not m:
                    break
                key += f"({m.group(1)})"
            return key
    return None


def referenced_topics(values: list[str], keys: list[str | None], tags: list[set[str]], own: int) -> dict[str, str]:
    """Topic tags of the first clause (with topics) each reference points to: the duty an exemption lifts."""
    out: dict[str, str] = {}
    for value in values:
        for i, key in enumerate(keys):
            if i == own or key is None:
                continue
            if key == value or key.startswith(value + "("):
                found = REF_TOPICS & tags[i]
                if found:
                    for tag in found:
                        out.setdefault(tag, value)
                    break
    return out
