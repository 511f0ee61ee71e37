"""licensor.* and terms.*: the licensor's powers and the general legal terms of a licence.

Section titles quoted in a list ("6 (Indemnification)") are not matched (see tagger masking)."""
from __future__ import annotations

from clausewatch.nlp.rules.base import QUOTES, ClauseView, Rule, combos, together, verbs

_UPDATE = ["modify", "amend", "update", "change", "revise", "supplement"]
_DETERMINERS = {"this", "these", "the", "its", "our", "such", "any", "their", "acceptable", "use", "usage",
                "prohibited", "-"}
_TERMS = ["agreement", "license", "licence", "terms", "policy", "policies", "conditions", "aup"]

PHRASES = {
    "UPDATE_FROM_TIME": ["as updated from time to time", "as amended from time to time",
                         "as modified from time to time", "as revised from time to time",
                         "updated from time to time", "amended from time to time", "modified from time to time"],
    "UPD_PASSIVE": combos(["may ", "can ", "will "], "be ", ["updated", "amended", "modified", "changed", "revised",
                                                          "supplemented"]),
    "BY_AGREEMENT": ["in accordance with", "by mutual", "in writing", "signed by", "by agreement", "with the consent"],
    "UPD_MODAL": ["may", "can", "will", "right to"],
    "RESERVE_W": ["reserve", "reserves", "reserved"],
    "RIGHT_W": ["right", "rights"],
    "UPD_VERB": _UPDATE,
    "TERMS_OBJ": _TERMS,
    # a licence steward publishing new versions does not change the licence of existing licensees
    "NEW_VERSION": ["new version", "new versions", "revised version", "revised versions", "later version",
                    "later versions", "versions of this license", "versions of this licence", "no one other than",
                    "no one", "nobody"],
    "LICENSEE_SUBJ": ["you", "licensee", "licensees", "recipient", "recipients"],
    "WARRANTY_AS_IS": combos(QUOTES, "as is"),
    "HOLD_W": ["hold"],
    "HARMLESS_W": ["harmless"],
    "REMOTE": ["remotely restrict", "remotely disable", "restrict remotely", "disable remotely", "remote restriction",
               "remote disabling", "kill switch"],
    "RESTRICT_V": [*verbs("restrict", "limit", "disable", "suspend", "block", "throttle")],

    "LATEST": ["latest version", "most recent version", "updated version", "latest release"],

    "TERMINATE": [*verbs("terminate"), "termination", "survive", "survives", "shall survive", "cease use"],
    "WARRANTY": ["without warranties", "without warranty", "without any warranty", "without any express",
                 "no warranty", "no warranties", "disclaims all warranties", "disclaim all warranties",
                 "disclaimer of warranty", "disclaimer of warranties", "with all faults", "warranties are disclaimed",
                 "disclaims any warranties", "disclaim any warranties", "disclaims all representations",
                 "makes no warranties", "provided as-is", "as-is basis", "without warranties or conditions", "as-is",
                 "provided as is", "on an as is basis", "as is basis", "as is and as available",
                 "representations or warranties of any kind", "warranties are hereby disclaimed",
                 "without even the implied warranty", "are disclaimed"],
    "LIAB_LIMIT": ["not be liable", "not liable", "exclusion of liability", "no liability",
                   "shall not have any liability", "limit its liability", "limits its liability",
                   "aggregate liability", "total liability", "maximum liability", "liability is limited",
                   "be held liable", "limitation of liability"],
    "IN_NO_EVENT": ["in no event", "under no circumstances", "in no case", "no event"],
    "LIABLE": ["liable", "liability"],
    "INDEMNITY": [*verbs("indemnify"), "indemnification", "indemnity", "hold harmless", "defend and hold"],
    "TRADEMARK": ["trademark license", "trademark licenses", "trademark licence", "trademark rights",
                  "trade names", "trade name", "service marks", "logos", "name or mark", "names or marks",
                  "to endorse or promote", "trademark use", "brand guidelines", "no trademark", "trademark law"],
    "TM_W": ["trademark", "trademarks"],

    "NOTICES_W": ["notices", "notice"],
    "GOVERN_V": ["governed by", "governed and construed", "construed in accordance with", "construed under",
                 "interpreted in accordance with", "interpreted under", "subject to the laws", "governing law",
                 "shall be governed", "is governed", "will be governed", "laws applicable", "shall govern",
                 "will govern", "governs this", "govern this", "governs these", "govern these"],
    "LAW_N": ["law", "laws", "legislation"],
    "JURIS": ["exclusive jurisdiction", "jurisdiction of", "submit to the jurisdiction", "submits to the jurisdiction",
              "courts of", "courts in", "courts located", "court of", "venue", "arbitration", "arbitral",
              "dispute resolution", "competent court", "competent courts", "jurisdiction and venue", "forum",
              "personal jurisdiction", "the courts", "tribunals", "competent jurisdiction"],
    "DISPUTE_N": ["dispute", "disputes", "claim", "claims", "action", "actions", "litigation", "proceeding",
                  "proceedings", "controversy", "controversies", "arising", "relating to this"],
    "OWN": ["owner of such", "retain ownership", "retains ownership", "right, title and interest", "you own",
            "you will own", "owned by you", "belong to you", "belongs to you", "ownership of", "will be the owner",
            "no rights in", "own all"],
    "CLAIM_V": ["claim", "claims", "assert", "asserts"],
    "OWNERSHIP_N": ["rights", "right", "ownership", "title"],
    "OWN_OBJ": ["output", "outputs", "derivative", "derivatives", "derivative works", "modifications",
                "generated content", "results", "content you generate"],
}
USAGE_WORDS = frozenset(["usage", "use", "access", "model", "service", "services"])
LATEST_USE = frozenset([*verbs("use", "update", "install", "upgrade"), "must", "shall"])
TRADEMARK_CONTEXT = frozenset(["rights", "right", "license", "licence", "licensed", "licenses", "use", "used", "grant",
                               "granted", "grants", "permission", "waived", "affected"])
NEAR = {"INDEMNITY": [("HOLD_W", "HARMLESS_W", 4)],
        "RESERVE_RIGHT": [("RESERVE_W", "RIGHT_W", 2)],
        "OWN": [("CLAIM_V", "OWNERSHIP_N", 3)]}


def _licence_cue(*labels: str):
    """Licence terms are read in licences only ("trade name" in a code of practice is not a trademark term)."""
    def fn(view: ClauseView) -> str | None:
        if view.doc_kind != "licence":
            return None
        hit = view.first(*labels)
        return view.span(hit) if hit else None
    return fn


def _update_terms(view: ClauseView) -> str | None:
    """'we may modify this Agreement', 'reserves the right to update this Use Policy', 'as updated from
    time to time'; not a steward publishing new versions, not 'no one other than ... may modify', not
    'you may not modify the terms'."""
    hit = view.first("UPDATE_FROM_TIME")
    if hit:
        return view.span(hit)
    blocked = {h.sent for h in view.all("NEW_VERSION")}
    found = view.pair(("TERMS_OBJ",), ("UPD_PASSIVE",), ordered=True, window=10)   # "This Policy may be updated"
    if found and found[0].sent not in blocked and not any(0 <= b.start - found[1].end <= 2
                                                          for b in view.all("BY_AGREEMENT")):
        return view.span(*found)
    modals = view.all("UPD_MODAL", "RESERVE_RIGHT")
    objects = view.all("TERMS_OBJ")
    subjects = view.all("LICENSEE_SUBJ")
    for verb_hit in view.all("UPD_VERB"):
        if verb_hit.sent in blocked:
            continue
        for m in modals:
            if not (0 <= verb_hit.start - m.end <= 6 and m.sent == verb_hit.sent) \
                    or {t.lower_ for t in view.doc[m.end:verb_hit.start]} & {"not", "be", "only"}:
                continue
            if any(s.sent == m.sent and 0 <= m.start - s.end <= 1 for s in subjects):
                continue                    # "you may modify ...": the licensee's right, not the licensor's
            for obj in objects:
                if obj.sent == verb_hit.sent and 0 <= obj.start - verb_hit.end <= 4 and all(
                        t.lower_ in _DETERMINERS or t.text[:1].isupper() for t in view.doc[verb_hit.end:obj.start]):
                    return view.span(verb_hit, obj)
    return None


def _remote(view: ClauseView) -> str | None:
    """'restrict remotely', 'reserves the right to limit access to the service'."""
    hit = view.first("REMOTE")
    if hit:
        return view.span(hit)
    for right in view.all("RESERVE_RIGHT"):
        for verb_hit in view.all("RESTRICT_V"):
            sent_end = view.extra["sentences"][verb_hit.sent][1]
            if verb_hit.sent == right.sent and 0 <= verb_hit.start - right.end <= 3 and any(
                    t.lower_ in USAGE_WORDS for t in view.doc[verb_hit.end:sent_end]):
                return view.span(right, verb_hit)
    return None


def _trademark(view: ClauseView) -> str | None:
    """No trademark rights are granted, or trademark use is limited (not a list of notices to keep)."""
    if view.doc_kind != "licence":
        return None

    def excepted(mark) -> bool:      # "(other than patent or trademark rights)": a grant that leaves marks out
        return any(e.sent == mark.sent and 0 <= mark.start - e.end <= 3 for e in view.all("EXCEPT_W"))

    for hit in view.all("TRADEMARK"):
        if not excepted(hit):
            return view.span(hit)
    notices = {h.sent for h in view.all("NOTICES_W")}
    for mark in view.all("TM_W"):
        if not excepted(mark) and mark.sent not in notices and view.has_word(mark.sent, TRADEMARK_CONTEXT):
            return view.span(mark)
    return None


def _indemnity(view: ClauseView) -> str | None:
    """The licensee indemnifies, defends or holds harmless (a sentence about trademarks is not an indemnity)."""
    if view.doc_kind != "licence":
        return None
    marks = {h.sent for h in view.all("TRADEMARK", "TM_W")}
    for hit in view.all("INDEMNITY"):
        if hit.sent not in marks:
            return view.span(hit)
    return None


def _governing_law(view: ClauseView) -> str | None:
    """A clause that names the law governing the agreement ('governed by the laws of ...') or the courts
    or arbitration for its disputes ('disputes go to the courts of X');
    'this licence governs your use' or 'obey applicable laws' is not one. Not in laws."""
    if view.doc_kind == "law":
        return None
    for gov in view.all("GOVERN_V"):
        if any(law.sent == gov.sent and -15 <= law.start - gov.end <= 15 for law in view.all("LAW_N")):
            return view.span(gov)      # "governed by the laws of X", "the law of X governs this Agreement"
    for juris in view.all("JURIS"):
        if any(d.sent == juris.sent for d in view.all("DISPUTE_N")):
            return view.span(juris)
    return None


RULES = [
    Rule("licensor.update_terms", "licensor.update_terms/may-modify-terms", _update_terms,
         ("UPD_VERB", "UPDATE_FROM_TIME", "UPD_PASSIVE"),
         description="'we may modify this Agreement/Policy', 'as updated from time to time' (not new versions "
                     "published by a licence steward)"),
    Rule("licensor.remote_restriction", "licensor.remote_restriction/remote", _remote, ("REMOTE", "RESERVE_RIGHT"),
         description="the licensor reserves the right to restrict usage, remotely or not"),
    Rule("licensor.remote_restriction", "licensor.remote_restriction/latest-version",
         lambda v: next((v.span(h) for h in v.all("LATEST") if v.has_word(h.sent, LATEST_USE)), None), ("LATEST",),
         description="the licensee must use/update to the latest version"),
    Rule("terms.termination", "terms.termination/terminate",
         lambda v: v.span(v.first("TERMINATE")) if v.doc_kind == "licence" else None, ("TERMINATE",),
         description="terminate, termination, survival (licences)"),
    Rule("terms.warranty_disclaimer", "terms.warranty_disclaimer/as-is", _licence_cue("WARRANTY", "WARRANTY_AS_IS"),
         ("WARRANTY", "WARRANTY_AS_IS"), description="'AS IS', 'without warranties', disclaimers (licences)"),
    Rule("terms.liability_limit", "terms.liability_limit/not-liable", _licence_cue("LIAB_LIMIT"), ("LIAB_LIMIT",),
         description="'not be liable', 'no liability' (licences)"),
    together("terms.liability_limit", "terms.liability_limit/in-no-event", ("IN_NO_EVENT",), ("LIABLE",),
             ordered=True, description="'in no event ... be liable'"),
    Rule("terms.indemnity", "terms.indemnity/indemnify", _indemnity, ("INDEMNITY",),
         description="indemnify, defend, hold harmless (licences; not in a sentence about trademarks)"),
    Rule("terms.trademark", "terms.trademark/marks", _trademark, ("TRADEMARK", "TM_W"),
         description="trademarks, trade names, service marks, logos: no rights or limited use (licences)"),
    Rule("terms.governing_law", "terms.governing_law/law-venue", _governing_law, ("GOVERN_V", "JURIS"),
         description="the law that governs the agreement, or the courts / arbitration for its disputes (not in laws)"),
    together("terms.output_ownership", "terms.output_ownership/owns-outputs", ("OWN",), ("OWN_OBJ",),
             description="who owns (or claims no rights in) outputs and derivatives"),
]
