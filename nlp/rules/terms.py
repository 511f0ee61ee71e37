"""licensor.* and terms.*: the licensor's powers and the general legal terms of a licence.

Section titles quoted in a list ("6 (Indemnification)") are not matched (see tagger masking)."""
from __future__ import annotations

from clausewatch.nlp.rules.base import QUOTES, ClauseView, Rule, any_of, combos, together, verbs

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
    "UPD_MODAL": ["may", "can", "will", "reserve the right to", "reserves the right to", "right to"],
    "UPD_VERB": _UPDATE,
    "TERMS_OBJ": _TERMS,
    "WARRANTY_AS_IS": combos(QUOTES, "as is"),
    "HOLD_W": ["hold"],
    "HARMLESS_W": ["harmless"],
    "REMOTE": ["remotely or otherwise", "remotely restrict", "remotely disable", "restrict remotely",
               "disable remotely", "reserves the right to restrict", "right to restrict usage",
               "right to restrict the use", "remote restriction"],
    "LATEST": ["latest version", "most recent version", "updated version", "latest release"],
    "LATEST_USE": [*verbs("use", "update", "install", "upgrade"), "must", "shall"],
    "TERMINATE": [*verbs("terminate"), "termination", "survive", "survives", "shall survive", "cease use"],
    "WARRANTY": ["without warranties", "without warranty", "without any warranty", "without any express",
                 "no warranty", "no warranties", "disclaims all warranties", "disclaim all warranties",
                 "disclaimer of warranty", "disclaimer of warranties", "with all faults", "warranties are disclaimed",
                 "disclaims any warranties", "disclaim any warranties", "disclaims all representations",
                 "makes no warranties", "provided as-is", "as-is basis", "without warranties or conditions", "as-is",
                 "representations or warranties of any kind"],
    "LIAB_LIMIT": ["not be liable", "not liable", "exclusion of liability", "no liability",
                   "shall not have any liability", "limit its liability", "limits its liability",
                   "aggregate liability", "total liability", "maximum liability", "liability is limited"],
    "IN_NO_EVENT": ["in no event", "under no circumstances", "in no case", "no event"],
    "LIABLE": ["liable", "liability"],
    "INDEMNITY": [*verbs("indemnify"), "indemnification", "indemnity", "hold harmless", "defend and hold"],
    "TRADEMARK": ["trademarks", "trademark license", "trademark licenses", "trademark licence", "trademark rights",
                  "trade names", "trade name", "service marks", "logos", "name or mark", "names or marks",
                  "to endorse or promote", "trademark use", "brand guidelines", "no trademark"],
    "GOV_LAW": ["governed by", "governed and construed", "construed in accordance", "construed under",
                "governing law", "exclusive jurisdiction", "submit to the jurisdiction",
                "submits to the jurisdiction", "jurisdiction and venue", "choice of law", "conflict of law",
                "conflict of laws", "conflicts of law", "arbitration", "courts of", "courts in", "courts located",
                "dispute resolution", "laws of the state of", "courts shall have", "venue"],
    "OWN": ["claims no rights in", "claim no rights in", "claims no ownership", "owner of such", "retain ownership",
            "retains ownership", "right, title and interest", "you own", "you will own", "owned by you",
            "belong to you", "belongs to you", "ownership of", "will be the owner", "does not claim ownership",
            "do not claim ownership", "not claim any rights", "no rights in", "own all"],
    "OWN_OBJ": ["output", "outputs", "derivative", "derivatives", "derivative works", "modifications",
                "generated content", "results", "content you generate"],
}
NEAR = {"INDEMNITY": [("HOLD_W", "HARMLESS_W", 4)]}


def _licence_cue(*labels: str):
    """Licence terms are read in licences only ("trade name" in a code of practice is not a trademark term)."""
    def fn(view: ClauseView) -> str | None:
        if view.doc_kind != "licence":
            return None
        hit = view.first(*labels)
        return view.span(hit) if hit else None
    return fn


def _update_terms(view: ClauseView) -> str | None:
    """'we may modify this Agreement', 'reserves the right to update this Prohibited Use Policy', or
    'as updated from time to time'."""
    hit = view.first("UPDATE_FROM_TIME")
    if hit:
        return view.span(hit)
    found = view.pair(("TERMS_OBJ",), ("UPD_PASSIVE",), ordered=True, window=10)   # "This Policy may be updated"
    if found and not any(0 <= b.start - found[1].end <= 2 for b in view.all("BY_AGREEMENT")):
        return view.span(*found)
    modals = view.all("UPD_MODAL")
    objects = view.all("TERMS_OBJ")
    for verb_hit in view.all("UPD_VERB"):
        if any(0 <= verb_hit.start - m.end <= 6 and m.sent == verb_hit.sent
               and not {t.lower_ for t in view.doc[m.end:verb_hit.start]} & {"not", "be"} for m in modals):
            for obj in objects:
                if obj.sent == verb_hit.sent and 0 <= obj.start - verb_hit.end <= 4 and all(
                        t.lower_ in _DETERMINERS or t.text[:1].isupper() for t in view.doc[verb_hit.end:obj.start]):
                    return view.span(verb_hit, obj)
    return None


RULES = [
    Rule("licensor.update_terms", "licensor.update_terms/may-modify-terms", _update_terms,
         ("UPD_VERB", "UPDATE_FROM_TIME", "UPD_PASSIVE"),
         description="'we may modify this Agreement/Policy', 'as updated from time to time'"),
    any_of("licensor.remote_restriction", "licensor.remote_restriction/remote", "REMOTE",
           description="'reserves the right to restrict (remotely or otherwise) usage'"),
    together("licensor.remote_restriction", "licensor.remote_restriction/latest-version", ("LATEST",),
             ("LATEST_USE",), description="the licensee must use/update to the latest version"),
    Rule("terms.termination", "terms.termination/terminate",
         lambda v: v.span(v.first("TERMINATE")) if v.doc_kind == "licence" else None, ("TERMINATE",),
         description="terminate, termination, survival (licences)"),
    Rule("terms.warranty_disclaimer", "terms.warranty_disclaimer/as-is", _licence_cue("WARRANTY", "WARRANTY_AS_IS"),
         ("WARRANTY", "WARRANTY_AS_IS"), description="'AS IS', 'without warranties', disclaimers (licences)"),
    Rule("terms.liability_limit", "terms.liability_limit/not-liable", _licence_cue("LIAB_LIMIT"), ("LIAB_LIMIT",),
         description="'not be liable', 'no liability' (licences)"),
    together("terms.liability_limit", "terms.liability_limit/in-no-event", ("IN_NO_EVENT",), ("LIABLE",),
             ordered=True, description="'in no event ... be liable'"),
    Rule("terms.indemnity", "terms.indemnity/indemnify", _licence_cue("INDEMNITY"), ("INDEMNITY",),
         description="indemnify, defend, hold harmless (licences)"),
    Rule("terms.trademark", "terms.trademark/marks", _licence_cue("TRADEMARK"), ("TRADEMARK",),
         description="trademarks, trade names, logos: no rights or limited use (licences)"),
    Rule("terms.governing_law", "terms.governing_law/law-venue",
         lambda v: None if v.doc_kind == "law" else (v.span(v.first("GOV_LAW")) if v.has("GOV_LAW") else None),
         ("GOV_LAW",), description="governing law, jurisdiction, venue, arbitration (not in laws)"),
    together("terms.output_ownership", "terms.output_ownership/owns-outputs", ("OWN",), ("OWN_OBJ",),
             description="who owns (or claims no rights in) outputs and derivatives"),
]
