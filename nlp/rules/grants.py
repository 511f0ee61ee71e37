"""grant.*: what a licence permits. A grant needs a grant cue ("hereby grants", "you are granted",
"you may") and, later in the same sentence, the permitted acts: use/run/reproduce/copy ->
grant.use; modify/adapt/create derivative works/fine-tune -> grant.modify; distribute/sublicense/
publish/make available -> grant.distribute; sell/"for any purpose"/"without restriction" ->
grant.commercial. A patent licence ("patent license to make, have made, use, sell") is
grant.patent (+ grant.commercial when it covers selling) and not grant.use. Sentences that deny a
licence ("no trademark licenses are granted", "are not being granted") or grant a trademark are
not grants."""
from __future__ import annotations

from clausewatch.nlp.rules.base import ClauseView, Hit, Rule, combos, verbs

PHRASES = {
    "GRANT_STRONG": ["hereby grants", "hereby grant", "grants to you", "grants you", "grant to you", "grant you",
                     "is hereby granted", "are hereby granted", "you are granted", "you are hereby granted",
                     "permission is granted", "licensor grants", "hereby licenses", "grants to licensee",
                     "grants licensee", "grants the licensee", "grants each recipient", "you are free to",
                     "you are permitted to", "you are allowed to", "you have the right to",
                     "you are authorized to", "you are authorised to"],
    "GRANT_NEG": ["not granted", "not being granted", "no license", "no licenses", "no licence", "no licences",
                  "does not grant", "do not grant", "nothing in this", "not be granted", "no rights are granted",
                  "not authorized to", "not authorised to"],
    "USE_V": ["use", "run", "reproduce", "copy", "execute", "install", "deploy", "host", "make copies",
              "make a copy"],
    "MOD_V": [*verbs("modify", "adapt", "translate", "transform", "remix", "merge"), "fine-tune", "fine tune",
              "finetune", "create derivative works", "prepare derivative works", "make derivative works",
              "create derivatives", "make modifications", "create modifications", "make adaptations",
              "build upon", "adapted material", "create derivative", "prepare ,"],
    "DIST_V": ["distribute", "redistribute", "sublicense", "sublicence", "publish", "share", "convey",
               "propagate", "transmit", "make available", "make publicly available", "communicate to the public",
               "make it available", "make them available", "offer to the public", "provide to others"],
    "COMM": ["sell", "offer to sell", "offer for sale", "commercial use", "commercial uses", "commercial purposes",
             "commercial purpose", "commercially", "for any purpose", "without restriction",
             "commercial or non-commercial", "including commercial", "any lawful purpose", "charge any price"],
    "COMM_OK": ["commercially usable", "free for commercial use", "commercial use is permitted",
                "commercial use is allowed", "may be used for commercial purposes", "can be used commercially",
                "may be used commercially", "permits commercial use", "allows commercial use"],
    "PATENT": ["patent license", "patent licence", "patent licenses", "patent licences", "patent rights",
               "patent claims"],
    "MARK": ["the mark", "mark", "marks", "trademark", "trademarks"],
    "PROHIB_WORD": ["not", "prohibited", "no", "never"],
    "GRANT_WEAK": combos(["you ", "licensee ", "licensees ", "recipient ", "recipients "], ["may", "can"]),
    "CREATE_V": ["create", "make", "prepare", "produce", "develop"],
    "DERIV_N": ["derivative", "derivatives", "adaptations", "modifications", "modified"],
    "MAKE_W": ["make"],
    "MAY_W": ["may"],
    "COPIES_N": ["copies"],
    "AVAILABLE_W": ["available"],
    "ADD_TERMS": ["additional or different license terms", "additional or different licence terms",
                  "additional or different terms", "your own license terms", "different license terms"],
}
NEAR = {
    "MOD_V": [("CREATE_V", "DERIV_N", 3)],
    "USE_V": [("MAKE_W", "COPIES_N", 5)],
    "DIST_V": [("MAKE_W", "AVAILABLE_W", 3)],
}
# "you may not", "you may wish to", "you can find": not permissions
NOT_A_PERMISSION = {"not", "be", "wish", "want", "need", "consider", "find", "have", "see", "notice", "encounter",
                    "experience", "decide", "choose", "never", "already", "still", "require"}
WEAK_GRANT_STOP = {"that", "which", "who", "whom", "provided", "if", "unless", "when", "where", "within",
                   "alongside", "as", "so", "because", "while", "whether", "except"}
# a verb read as a noun: "for use, reproduction", "your use", "commercial use"
NOUN_BEFORE = {"for", "of", "the", "your", "any", "its", "their", "such", "this", "that", "our", "his", "her",
               "commercial", "personal", "internal", "fair", "own", "in", "no", "non", "-", "a", "an", "whose",
               "each", "every", "per", "verbatim"}


def _grant_sentences(view: ClauseView) -> list[tuple[Hit, bool, str]]:
    """(grant cue, strong?, mode) for each sentence that grants rights; mode 'patent' or 'copyright'."""
    cached = view.extra.get("grants")
    if cached is not None:
        return cached
    blocked = {h.sent for h in view.all("GRANT_NEG", "TRADEMARK", "MARK")}
    out: list[tuple[Hit, bool, str]] = []
    seen: set[int] = set()
    for cue in view.all("GRANT_STRONG", "GRANT_WEAK"):
        if cue.sent in blocked or cue.sent in seen:
            continue
        if cue.label == "GRANT_WEAK" and cue.end < len(view.doc) and view.doc[cue.end].lower_ in NOT_A_PERMISSION:
            continue
        seen.add(cue.sent)
        acts = [h for h in view.all("USE_V", "MOD_V", "DIST_V", "COMM") if h.sent == cue.sent and h.start >= cue.start]
        first_act = acts[0].start if acts else cue.end + 1000
        patent = any(cue.start <= p.start < first_act for p in view.all("PATENT") if p.sent == cue.sent)
        out.append((cue, cue.label == "GRANT_STRONG", "patent" if patent else "copyright"))
    view.extra["grants"] = out
    return out


def _scope_end(view: ClauseView, cue: Hit, strong: bool) -> int:
    """Where the acts a grant cue permits end: 'You may add notices within works that You distribute'
    permits adding, not distributing."""
    limit = min(len(view.doc), cue.start + 70)
    if strong:
        return limit
    for i in range(cue.start + 2, limit):
        if view.doc[i].lower_ in WEAK_GRANT_STOP and view.doc[i - 1].text != "-":
            return i
    return limit


def _acts(view: ClauseView, label: str, strong_only: bool | None) -> str | None:
    for cue, strong, mode in _grant_sentences(view):
        if mode == "patent" or (strong_only is not None and strong != strong_only):
            continue
        end = _scope_end(view, cue, strong)
        for h in view.all(label):
            if h.sent != cue.sent or h.start < cue.start or h.start >= end:
                continue
            if label == "USE_V" and h.start > 0 and view.doc[h.start - 1].lower_ in NOUN_BEFORE:
                continue
            return view.span(cue, h)
    return None


def _act_rule(tag: str, label: str, name: str) -> list[Rule]:
    return [
        Rule(tag, f"{tag}/granted-{name}", lambda v: _acts(v, label, True), ("GRANT_STRONG",),
             description=f"a licence grant ('hereby grants', 'you are granted') to {name}"),
        Rule(tag, f"{tag}/may-{name}", lambda v: _acts(v, label, False), ("GRANT_WEAK",), score=0.8,
             description=f"'you may {name}'"),
    ]


def _commercial(view: ClauseView) -> str | None:
    nonc = {h.sent for h in view.all("NONCOMM")} - {h.sent for h in view.all("BOTH_COMM")}
    for cue, _strong, _mode in _grant_sentences(view):
        if cue.sent in nonc:
            continue
        for h in view.all("COMM", "BOTH_COMM"):
            if h.sent == cue.sent and h.start >= cue.start and view.doc[max(h.start - 1, 0)].lower_ not in ("-", "non"):
                return view.span(cue, h)
    return None


def _patent(view: ClauseView) -> str | None:
    for cue, _strong, mode in _grant_sentences(view):
        if mode == "patent":
            patent = next(p for p in view.all("PATENT") if p.sent == cue.sent and p.start >= cue.start)
            return view.span(cue, patent)
    return None


def _additional_terms(view: ClauseView) -> str | None:
    may = {h.sent for h in view.all("GRANT_WEAK", "MAY_W")
           if h.end >= len(view.doc) or view.doc[h.end].lower_ not in ("not", "never")}
    for h in view.all("ADD_TERMS"):
        if h.sent in may:
            return view.span(h)
    return None


RULES = [
    *_act_rule("grant.use", "USE_V", "use"),
    *_act_rule("grant.modify", "MOD_V", "modify"),
    *_act_rule("grant.distribute", "DIST_V", "distribute"),
    Rule("grant.distribute", "grant.distribute/additional-terms", _additional_terms, ("ADD_TERMS",), 0.8,
         "'you may provide additional or different license terms' for modifications"),
    Rule("grant.commercial", "grant.commercial/sell-any-purpose", _commercial, ("COMM", "BOTH_COMM"),
         description="a grant covering selling, commercial use, 'for any purpose' or 'without restriction'"),
    Rule("grant.commercial", "grant.commercial/commercially-usable",
         lambda v: None if v.has("NONCOMM", "PROHIB_WORD") else v.span(v.first("COMM_OK")), ("COMM_OK",),
         description="'commercially usable', 'free for commercial use'"),
    Rule("grant.patent", "grant.patent/patent-license", _patent, ("PATENT",),
         description="a grant of a patent licence"),
]
