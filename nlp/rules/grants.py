"""grant.*: what a licence permits.

A grant is a sentence with a grant cue and the permitted acts:
- active grants: "hereby grants you a licence to <acts>", "you are granted", "anyone is free to <acts>",
  "you may <acts>" (weaker: its scope ends at "that", "if", "provided" ...);
- passive grants, whose acts come first: "Permission to <acts> ... is hereby granted", "<Acts> ...
  are permitted provided that ...";
- open grants with no list of acts: "do what(ever) you want", a licence "to exercise the rights" in the
  work (every act, and no enumeration below it).
Acts: use/run/reproduce/copy -> grant.use; modify/adapt/alter/create derivative works/fine-tune ->
grant.modify; distribute/sublicense/publish/make available -> grant.distribute; sell, "for any purpose",
"without restriction", commercial use -> grant.commercial (the gold rule: only where the words cover
commercial exploitation expressly). An act right after a negation ("with or without modification",
"may not sell") is not granted. A patent licence ("patent license to make, use, sell") is grant.patent
(+ grant.commercial when it covers selling); the acts that follow a patent cue are the patent's, not a
copyright grant. A sentence that denies a licence, or whose licence is a trademark licence, or whose
object is the licence text itself ("copies of this license document"), grants nothing; neither does a
law that permits a use ("in so far as their use is permitted"): grants are read in licences only.
"""
from __future__ import annotations

from clausewatch.nlp.rules.base import ClauseView, Hit, Rule, combos, together, verbs

PHRASES = {
    "GRANT_STRONG": ["hereby grants", "hereby grant", "grants to you", "grants you", "grant to you", "grant you",
                     "licensor grants", "hereby licenses", "grants to licensee", "grants licensee",
                     "grants the licensee", "grants each recipient", "grants to each", "you are granted",
                     "you are hereby granted", "you are free to", "you are permitted to", "you are allowed to",
                     "you have the right to", "you are authorized to", "you are authorised to",
                     "anyone is free to", "everyone is free to", "everyone is permitted to", "anyone is permitted to",
                     "is free to", "are free to", "hereby authorizes", "hereby authorises", "hereby permits",
                     "you may freely", "may freely"],
    # the acts come before these: "Permission to use ... is hereby granted", "Redistribution ... are permitted"
    "GRANT_PASSIVE": combos(["is ", "are "], ["", "hereby "], ["granted", "permitted", "allowed"]),
    "PERMISSION_W": ["permission"],
    "GRANTED_W": ["granted", "given"],
    "GRANT_ALL": ["do what the fuck you want", "do whatever you want", "do what you want", "do anything you want",
                  "do whatever they want", "do what they want", "whatever you want with"],
    "GRANT_NEG": ["not granted", "not being granted", "no license", "no licenses", "no licence", "no licences",
                  "does not grant", "do not grant", "nothing in this", "not be granted", "no rights are granted",
                  "not authorized to", "not authorised to", "not permitted", "not allowed", "not free to"],
    "USE_V": ["use", "run", "reproduce", "copy", "execute", "install", "deploy", "host", "make copies",
              "make a copy", "compile", "perform", "display"],
    "MOD_V": [*verbs("modify", "adapt", "translate", "transform", "remix", "merge", "alter"), "fine-tune",
              "fine tune", "finetune", "create derivative works", "prepare derivative works", "make derivative works",
              "create derivatives", "make modifications", "create modifications", "make adaptations",
              "make alterations", "make changes", "build upon", "adapted material", "create derivative", "prepare ,",
              "work based on", "works based on", "modified version", "modified versions", "modified work",
              "modified works", *verbs("change")],
    "DIST_V": ["distribute", "redistribute", "sublicense", "sublicence", "publish", "share", "convey",
               "propagate", "transmit", "make available", "make publicly available", "communicate to the public",
               "make it available", "make them available", "offer to the public", "provide to others", "hand on",
               "pass on", "give away", "hand out", "hand it on", "pass it on", "hand them on", "pass them on"],
    "DIST_N": ["redistribution", "redistributions", "distribution"],   # acts named as nouns in passive grants
    "COMM": ["sell", "resell", "offer to sell", "offer for sale", "commercial use", "commercial uses",
             "commercial purposes", "commercial purpose", "commercial applications", "commercial application",
             "commercial exploitation", "commercially exploit", "exploit commercially", "use commercially",
             "commercially use", "for profit", "for any purpose", "any purpose whatsoever", "without restriction",
             "commercial or non-commercial", "including commercial", "any lawful purpose", "charge any price",
             "charge a fee", "for a fee", "lease", "rent"],
    "COMM_OK": ["commercially usable", "free for commercial use", "commercial use is permitted",
                "commercial use is allowed", "may be used for commercial purposes", "can be used commercially",
                "may be used commercially", "permits commercial use", "allows commercial use"],
    "PATENT": ["patent license", "patent licence", "patent licenses", "patent licences", "patent rights",
               "patent claims"],
    "MARK": ["the mark", "mark", "marks", "trademark", "trademarks"],
    "EXCEPT_W": ["other than", "except", "excluding", "not including"],
    "CONDITIONAL_W": ["so far as", "insofar as", "to the extent", "as far as", "where", "if", "unless"],
    "GRANT_WEAK": combos(["you ", "licensee ", "licensees ", "recipient ", "recipients ", "users ", "anyone "],
                         ["may", "can"]),
    "CREATE_V": ["create", "make", "prepare", "produce", "develop"],
    "DERIV_N": ["derivative", "derivatives", "adaptations", "modifications", "modified"],
    "MAKE_W": ["make"],
    "MAY_W": ["may"],
    "COPIES_N": ["copies"],
    "AVAILABLE_W": ["available"],
    "EXERCISE_W": ["exercise"],
    "RIGHTS_W": ["rights", "licensed rights"],
    "LICENCE_TEXT": ["license document", "licence document", "license text", "licence text"],
    "ADD_ADJ": ["additional", "different", "further", "own"],
    "TERMS_W": ["terms", "license terms", "licence terms", "licensing terms", "conditions"],
}
NEAR = {
    "GRANT_STRONG": [("PERMISSION_W", "GRANTED_W", 2)],      # "Permission is (hereby) granted ... to"
    "MOD_V": [("CREATE_V", "DERIV_N", 3)],
    "USE_V": [("MAKE_W", "COPIES_N", 5)],
    "DIST_V": [("MAKE_W", "AVAILABLE_W", 3)],
    "EXERCISE_RIGHTS": [("EXERCISE_W", "RIGHTS_W", 6)],
    "ADD_TERMS": [("ADD_ADJ", "TERMS_W", 2)],
}
# "you may not", "you may wish to", "you can find": not permissions
NOT_A_PERMISSION = {"not", "be", "wish", "want", "need", "consider", "find", "have", "see", "notice", "encounter",
                    "experience", "decide", "choose", "never", "already", "still", "require", "obtain",
                    "contact", "request", "ask"}
WEAK_GRANT_STOP = {"that", "which", "who", "whom", "provided", "if", "unless", "when", "where", "within",
                   "alongside", "as", "so", "because", "while", "whether", "except", "but"}
STRONG_GRANT_STOP = {"but", "except", "unless", "however"}
# a verb read as a noun: "for use, reproduction", "your use", "commercial use"
NOUN_BEFORE = {"for", "of", "the", "your", "any", "its", "their", "such", "this", "that", "our", "his", "her",
               "commercial", "personal", "internal", "fair", "own", "in", "no", "non", "-", "a", "an", "whose",
               "each", "every", "per", "verbatim"}
ACT_LABELS = ("USE_V", "MOD_V", "DIST_V", "COMM")
NEG_WORDS = frozenset(["not", "no", "never", "nor", "cannot", "without", "neither"])


def _negated(view: ClauseView, hit: Hit, start: int) -> bool:
    """Is ``hit`` (an act) negated or excepted within the grant: 'with or without modification', 'may not
    sell', 'other than commercial purposes', 'for any purpose except ...'?"""
    for other in view.all("EXCEPT_W"):
        if other.sent == hit.sent and (start <= other.start < hit.start and hit.start - other.end <= 3
                                       or 0 <= other.start - hit.end <= 1):
            return True
    doc = view.doc
    for i in range(max(start, hit.start - 3), hit.start):
        word = doc[i].lower_
        if word in NEG_WORDS:
            if word == "without" and doc[hit.start].lower_ in ("restriction", "fee"):
                continue
            return True
    return False


def _mark_licence(view: ClauseView, cue: Hit, first_act: int) -> bool:
    """A trademark between the grant cue and the object of its first act makes it a trademark licence
    ('grants you a license to use “Acme” (the “Mark”)'), unless it is excepted ('(other than patent or
    trademark)')."""
    for mark in view.all("MARK"):
        if mark.sent != cue.sent or not (cue.start <= mark.start < first_act + 10):
            continue
        if not any(e.sent == mark.sent and 0 <= mark.start - e.end <= 4 for e in view.all("EXCEPT_W")):
            return True
    return False


def _grant_sentences(view: ClauseView) -> list[tuple[Hit, bool, int, int, int]]:
    """(grant cue, strong?, scope start, scope end, first patent token) for each sentence that grants."""
    cached = view.extra.get("grants")
    if cached is not None:
        return cached
    if view.doc_kind != "licence":       # a law or order that permits a use grants no licence
        view.extra["grants"] = []
        return []
    blocked = {h.sent for h in view.all("GRANT_NEG")}
    bounds = view.extra["sentences"]
    out: list[tuple[Hit, bool, int, int, int]] = []
    seen: set[int] = set()
    cues = view.all("GRANT_ALL") + view.all("GRANT_STRONG", "GRANT_PASSIVE") + view.all("GRANT_WEAK")
    for cue in cues:         # an open grant first: "you may do whatever you want" is more than "you may"
        if cue.sent in blocked or cue.sent in seen:
            continue
        if cue.label == "GRANT_WEAK" and cue.end < len(view.doc) and view.doc[cue.end].lower_ in NOT_A_PERMISSION:
            continue
        sent_start, sent_end = bounds[cue.sent]
        if cue.label == "GRANT_PASSIVE":
            start = max(sent_start, cue.start - 60)
            acts_before = [h for h in view.all(*ACT_LABELS, "DIST_N") if h.sent == cue.sent and start <= h.start < cue.start]
            if not acts_before or view.doc[cue.start - 1].lower_ == "not" or any(
                    c.sent == cue.sent and c.start < acts_before[0].start + 3 for c in view.all("CONDITIONAL_W")):
                continue          # "in so far as their use is permitted under the law"
            start, end = acts_before[0].start, min(sent_end, cue.end + 40)
        else:
            start, end = cue.start, _scope_end(view, cue, cue.label != "GRANT_WEAK", sent_end)
        acts = [h for h in view.all(*ACT_LABELS) if h.sent == cue.sent and start <= h.start < end]
        first_act = acts[0].start if acts else end
        if _mark_licence(view, cue, first_act) or _licence_text_object(view, acts, end):
            continue
        patents = [p.start for p in view.all("PATENT") if p.sent == cue.sent and start <= p.start < end]
        seen.add(cue.sent)
        out.append((cue, cue.label != "GRANT_WEAK", start, end, patents[0] if patents else end))
    view.extra["grants"] = out
    return out


def _licence_text_object(view: ClauseView, acts: list[Hit], end: int) -> bool:
    """'Everyone is permitted to copy and distribute copies of this license document': the licence's own text."""
    return any(t.sent == act.sent and 0 <= t.start - act.end <= 8 for act in acts for t in view.all("LICENCE_TEXT"))


def _scope_end(view: ClauseView, cue: Hit, strong: bool, sent_end: int) -> int:
    """Where the acts a grant cue permits end: 'You may add notices within works that You distribute'
    permits adding, not distributing; 'you may use it, but may not sell it' permits using."""
    limit = min(sent_end, cue.start + 70, len(view.doc))
    stops = STRONG_GRANT_STOP if strong else WEAK_GRANT_STOP
    for i in range(cue.end, limit):
        if view.doc[i].lower_ in stops and view.doc[i - 1].text not in ("-", "(") and (strong or i >= cue.start + 2):
            return i
    return limit


def _acts(view: ClauseView, label: str, strong_only: bool | None) -> str | None:
    for cue, strong, start, end, patent_at in _grant_sentences(view):
        if strong_only is not None and strong != strong_only:
            continue
        if cue.label == "GRANT_ALL":
            return view.span(cue)
        if label != "COMM":
            end = min(end, patent_at)    # the acts after "patent license" are the patent's
        exercise = [h for h in view.all("EXERCISE_RIGHTS") if h.sent == cue.sent and start <= h.start < end]
        if exercise and not view.text.rstrip().endswith(("to:", "to :")) and not _any_act(view, cue, start, end):
            return view.span(cue, exercise[0])      # a licence "to exercise the rights", acts not listed
        for h in view.all(label):
            if h.sent != cue.sent or h.start < start or h.start >= end or _negated(view, h, start):
                continue
            if label == "USE_V" and h.start > 0 and view.doc[h.start - 1].lower_ in NOUN_BEFORE \
                    and cue.label != "GRANT_PASSIVE":
                continue
            return view.span(cue, h)
        if label == "DIST_V" and cue.label == "GRANT_PASSIVE":
            for h in view.all("DIST_N"):
                if h.sent == cue.sent and start <= h.start < end and not _negated(view, h, start):
                    return view.span(h, cue)
    return None


def _any_act(view: ClauseView, cue: Hit, start: int, end: int) -> bool:
    return any(h.sent == cue.sent and start <= h.start < end for h in view.all("USE_V", "MOD_V", "DIST_V"))


def _act_rule(tag: str, label: str, name: str) -> list[Rule]:
    return [
        Rule(tag, f"{tag}/granted-{name}", lambda v: _acts(v, label, True),
             ("GRANT_STRONG", "GRANT_PASSIVE", "GRANT_ALL"),
             description=f"a licence grant ('hereby grants', 'permission to ... is granted', 'anyone is free to') "
                         f"to {name}"),
        Rule(tag, f"{tag}/may-{name}", lambda v: _acts(v, label, False), ("GRANT_WEAK",), score=0.8,
             description=f"'you may {name}'"),
    ]


def _commercial(view: ClauseView) -> str | None:
    nonc = {h.sent for h in view.all("NONCOMM")} - {h.sent for h in view.all("BOTH_COMM")}
    for cue, _strong, start, end, _patent in _grant_sentences(view):
        if cue.sent in nonc:
            continue
        if cue.label == "GRANT_ALL":
            return view.span(cue)
        for h in view.all("COMM", "BOTH_COMM"):
            if h.sent != cue.sent or not (start <= h.start < end) or _negated(view, h, start):
                continue
            if view.doc[max(h.start - 1, 0)].lower_ not in ("-", "non"):
                return view.span(cue, h)
    return None


def _patent(view: ClauseView) -> str | None:
    for cue, _strong, _start, end, patent_at in _grant_sentences(view):
        if patent_at < end and any(h.sent == cue.sent and patent_at < h.start < end
                                   for h in view.all("USE_V", "COMM")):
            patent = next(p for p in view.all("PATENT") if p.start == patent_at)
            return view.span(cue, patent)
    return None


def _additional_terms(view: ClauseView) -> str | None:
    """'You may offer your changes under further or different terms' (licences)."""
    if view.doc_kind != "licence":
        return None
    may = {h.sent for h in view.all("GRANT_WEAK", "MAY_W")
           if h.end >= len(view.doc) or view.doc[h.end].lower_ not in ("not", "never")}
    for h in view.all("ADD_TERMS"):
        if h.sent in may and not any(n.sent == h.sent and n.start < h.start for n in view.all("GRANT_NEG")):
            return view.span(h)
    return None


RULES = [
    *_act_rule("grant.use", "USE_V", "use"),
    *_act_rule("grant.modify", "MOD_V", "modify"),
    *_act_rule("grant.distribute", "DIST_V", "distribute"),
    Rule("grant.distribute", "grant.distribute/additional-terms", _additional_terms, ("ADD_TERMS",), 0.8,
         "'you may provide additional or different terms' for modifications"),
    Rule("grant.commercial", "grant.commercial/sell-any-purpose", _commercial, ("COMM", "BOTH_COMM", "GRANT_ALL"),
         description="a grant covering selling, commercial use, 'for any purpose', 'without restriction', "
                     "'do what you want'"),
    Rule("grant.commercial", "grant.commercial/commercially-usable",
         lambda v: None if v.has("NONCOMM") or any(v.has_word(h.sent, NEG_WORDS) for h in v.all("COMM_OK"))
         else v.span(v.first("COMM_OK")),
         ("COMM_OK",),
         description="'commercially usable', 'free for commercial use'"),
    Rule("grant.patent", "grant.patent/patent-license", _patent, ("PATENT",),
         description="a grant of a patent licence (to make, use, sell ...)"),
    together("grant.patent", "grant.patent/patent-license-ends", ("PATENT",), ("TERMINATE",), ordered=True,
             description="the patent licence granted ends (on patent litigation): the grant's own terms"),
]
