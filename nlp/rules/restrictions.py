"""restrict.*: what a licence or use policy withholds.

- scale_threshold: a user-count ("700 million monthly active users") or revenue threshold above
  which a separate licence is needed;
- noncommercial: "non-commercial", "research purposes only", or commercial purposes in a prohibition;
- use_policy: binding the licensee to a use policy / use restrictions, or a chapeau that opens a list
  of forbidden uses ("You shall not use the Tool:");
- prohibited_use: one forbidden use (items under a use-policy chapeau inherit it, see context.py;
  a licence sentence that forbids a named harm also carries it);
- output_use: a ban on using outputs (to improve other models ...);
- geographic: export control, sanctions, or rights withheld by domicile/location.
"""
from __future__ import annotations

from clausewatch.nlp.rules.base import ClauseView, Hit, Rule, any_of, combos, together, verbs

NEAR = {"NONCOMM": [("ONLY_W", "RESEARCH_P", 20), ("RESEARCH_W", "ONLY_AFTER", 3)],
        "SAFE_USE": [("SAFE_W", "RESPONSIBLE_W", 3), ("RESPONSIBLE_W", "SAFE_W", 3)],
        "IMPROVE_MODEL": [("IMPROVE", "MODEL_N", 8)],
        "CONTRAVENE_TERMS": [("CONTRAVENE_V", "TERMS_N", 6)],
        # "annual revenues of more than USD 1,000,000", "more than $10M in gross revenue"
        "REVENUE_CMP": [("REVENUE", "AMOUNT_CMP", 4), ("AMOUNT_CMP", "REVENUE", 8)]}
PHRASES = {
    "NONCOMM": ["non-commercial", "noncommercial", "non commercial", "not for commercial", "non-production",
                "not for production", "research-only", "research only", "evaluation only", "testing only"],
    "BOTH_COMM": combos(["non-commercial", "noncommercial", "commercial"], [" or ", " and ", ", "],
                        ["commercial", "non-commercial", "noncommercial"]),
    "ONLY_W": ["only", "solely", "exclusively", "limited to", "strictly", "restricted to"],
    "ONLY_AFTER": ["only", "solely", "exclusively"],
    "RESEARCH_W": ["research", "evaluation", "testing", "academic", "educational", "personal use", "experimental",
                   "non-production", "scientific", "internal evaluation", "evaluative"],
    "RESEARCH_P": ["research purposes", "research purpose", "research use", "research uses", "research",
                   "evaluation purposes", "evaluation", "evaluating", "evaluate", "personal use", "testing purposes",
                   "testing", "academic purposes", "academic research", "academic", "educational purposes",
                   "non-commercial purposes", "noncommercial purposes", "experimental purposes", "scientific research",
                   "non-production", "internal evaluation"],
    "NOT_REQ_SCOPE": ["does not apply to", "do not apply to", "except for", "other than"],
    "COMM_PURPOSE": ["commercial purposes", "commercial purpose", "commercial or production purposes",
                     "commercial use", "commercial uses", "commercial exploitation", "commercial products",
                     "commercial services"],
    "PROHIB": ["will not", "shall not", "must not", "may not", "agree not to", "cannot", "can not",
               "not permitted", "not allowed", "prohibited", "prohibits", "forbidden", "do not", "not use",
               "no use of", "not to", "refrain from"],
    "REVENUE": ["annual revenue", "annual revenues", "gross revenue", "annual gross revenue", "revenues",
                "annual recurring revenue", "revenue", "yearly revenue"],
    "PASSIVE_BAN": ["is prohibited", "are prohibited", "is not permitted", "are not permitted", "is not allowed",
                    "are not allowed", "is forbidden", "is not licensed", "are not licensed", "requires",
                    "require", "is subject to a separate"],
    "LICENSE_REQ": ["request a license", "request a licence", "separate license", "separate licence",
                    "commercial license", "commercial licence", "obtain a license", "obtain a licence",
                    "not authorized to exercise", "enterprise license", "enterprise licence", "must contact",
                    "separate agreement", "commercial agreement", "paid license", "paid licence"],
    "AMOUNT_CMP": ["more than", "exceeds", "exceed", "exceeding", "exceeded", "in excess of", "greater than",
                   "above", "less than", "at least", "or more", "surpasses", "surpass"],
    "OUTPUT": ["output", "outputs", "results", "output therefrom", "generated content", "generations"],
    "IMPROVE": [*verbs("improve", "train", "develop", "enhance", "build", "create", "distill", "fine-tune"),
                "fine tune", "finetune"],
    "MODEL_N": ["model", "models", "language model", "large language model", "foundation model", "ai model",
                "machine learning", "neural network", "dataset", "datasets"],
    "COMPETE": [*verbs("compete"), "competing", "competitive", "competitor"],
    "CONTRAVENE_V": [*verbs("contravene", "violate", "breach", "infringe")],
    "TERMS_N": ["provision", "provisions", "license", "licence", "agreement", "terms", "this license"],
    "AUP_REF": ["acceptable use policy", "prohibited use policy", "use policy", "usage policy", "usage policies",
                "use restrictions", "use-based restrictions", "use based restrictions", "restricted uses",
                "use restriction", "responsible use policy", "acceptable use"],
    "BIND": [*verbs("comply", "adhere", "include", "abide", "follow"), "incorporated", "subject to", "agree to",
             "in accordance with", "set forth", "considered", "added", "bound", "enforceable"],
    "SAFE_W": ["safe", "safely", "safety"],
    "RESPONSIBLE_W": ["responsible", "responsibly", "fair", "fairly", "ethical", "ethically", "lawful", "lawfully",
                      "trustworthy", "secure", "securely"],

    "USERS": combos(["monthly ", "daily ", "weekly "], "active ", ["users", "user"]) + ["mau", "maus", "dau", "daus"],
    "USE_OF": ["use of", "usage of"],
    "MUST_COMPLY": combos(["must ", "shall "], ["be", "comply", "adhere", "conform", "follow", "abide"]),
    "POLICY_OBJ": ["policy", "policies", "terms", "guidelines", "principles", "code of conduct"],
    "YOU": ["you", "licensee", "licensees", "your users", "users"],
    "HARM": ["military", "weapon", "weapons", "warfare", "surveillance", "discriminate", "discrimination",
             "discriminating", "harass", "harassment", "defame", "defamatory", "disinformation", "misinformation",
             "minors", "children", "child", "malware", "spam", "fraud", "fraudulent", "impersonate",
             "impersonating", "terrorism", "violence", "self-harm", "bodily harm", "biometric", "illegal",
             "unlawful", "exploit", "exploiting", "harm", "harming", "deceive", "stalking", "trafficking"],
    "GEO_STRONG": ["export control", "export controls", "export laws", "export law", "export administration",
                   "export regulations", "re-export", "sanctions", "sanctioned", "embargo", "embargoed",
                   "restricted parties", "denied parties", "entity list", "export restrictions", "restricted party",
                   "restricted party list", "denied party", "specially designated nationals", "sdn list"],
    "GEO_PLACE": ["domiciled in", "resident of", "residents of", "resident in", "located in",
                  "principal place of business", "citizens of", "nationals of", "incorporated in",
                  "the european union", "eu residents"],
    "GEO_RESTRICT": ["not being granted", "not granted", "may not", "not permitted", "prohibited", "restricted",
                     "excluded", "not available", "shall not", "must not", "not licensed", "unavailable"],
}
NEAR["USE_MUST"] = [("USE_OF", "MUST_COMPLY", 7)]
USE_WORDS = frozenset(["use", "used", "using", "usage", "uses"])


def _no_commercial(view: ClauseView) -> str | None:
    if view.doc_kind != "licence":
        return None
    found = view.pair(("PROHIB",), ("COMM_PURPOSE",), ordered=True)
    if found:
        return view.span(*found)
    for comm in view.all("COMM_PURPOSE"):          # "commercial use is prohibited / requires a separate licence"
        for ban in view.all("PASSIVE_BAN", "LICENSE_REQ"):
            if ban.sent == comm.sent and 0 <= ban.start - comm.end <= 8 and not any(
                    t.sent == comm.sent for t in view.all("REVENUE", "USERS")):
                return view.span(comm, ban)
    return None


def _use_must_follow(view: ClauseView) -> str | None:
    """'Use of the Models must be consistent with NVIDIA's Trustworthy AI terms.'"""
    for h in view.all("USE_MUST"):
        objects = [o for o in view.all("POLICY_OBJ") if o.sent == h.sent and o.start > h.start]
        if objects:
            return view.span(h, objects[0])
    return None


def _list_intro(view: ClauseView) -> str | None:
    """A licence chapeau that opens a list of forbidden uses: 'You shall not use the Tool:'."""
    if view.doc_kind != "licence" or not view.text.rstrip().endswith(":"):
        return None
    last = view.extra["sentences"][-1]
    for h in view.all("PROHIB"):
        if last[0] <= h.start < last[1]:
            return view.span(h)
    return None


def _forbidden_harm(view: ClauseView) -> str | None:
    if view.doc_kind != "licence" or view.text.rstrip().endswith(":"):
        return None
    for you in view.all("YOU"):
        found = view.pair(("PROHIB",), ("HARM",), ordered=True)
        if found and found[0].sent == you.sent and you.start < found[0].start:
            return view.span(*found)
    return None


def _output_ban(view: ClauseView) -> str | None:
    """A prohibition on what outputs may be used for: improving or training other models, competing,
    contravening the licence ('no use of the output can contravene ...'). A duty that only attaches to
    such use (name the model, display a notice) is not a ban: it has no prohibition."""
    if view.doc_kind != "licence":
        return None
    found = output_purpose(view, ("IMPROVE_MODEL", "COMPETE", "CONTRAVENE_TERMS"), prohibited=True)
    return view.span(*found) if found else None


def output_purpose(view: ClauseView, purposes: tuple[str, ...], *, prohibited: bool) -> tuple[Hit, Hit] | None:
    """The first outputs cue and a ``purposes`` cue of the same sentence (with ``prohibited``: only in a
    sentence that also prohibits); also used for an item whose prohibition is its chapeau's."""
    bans = {h.sent for h in view.all("PROHIB")} if prohibited else None
    for out in view.all("OUTPUT"):
        if bans is not None and out.sent not in bans:
            continue
        for purpose in view.all(*purposes):
            if purpose.sent == out.sent:
                return out, purpose
    return None


def _safe_use(view: ClauseView) -> str | None:
    """A use policy's statement of purpose: 'we want everyone to use it safely and fairly' (licences and
    policies of use)."""
    if view.doc_kind != "licence":
        return None
    for hit in view.all("SAFE_USE"):
        if view.has_word(hit.sent, USE_WORDS):
            return view.span(hit)
    return None


def _noncommercial(view: ClauseView) -> str | None:
    """'non-commercial', 'for research purposes only', 'solely for evaluation': a licence limits use to
    non-commercial, research, evaluation or personal purposes (not 'commercial or non-commercial')."""
    if view.doc_kind != "licence":
        return None
    blocked = {h.sent for h in view.all("BOTH_COMM")}
    for hit in view.all("NONCOMM"):
        if hit.sent in blocked:
            continue
        if any(r.sent == hit.sent and r.start < hit.start <= r.end + 2 for r in view.all("NOT_REQ_SCOPE")):
            continue
        return view.span(hit)
    return None


RULES = [
    any_of("restrict.scale_threshold", "restrict.scale_threshold/active-users", "USERS",
           description="a monthly/daily active users threshold"),
    together("restrict.scale_threshold", "restrict.scale_threshold/revenue", ("REVENUE",), ("LICENSE_REQ",),
             description="a revenue threshold above which a separate licence is needed"),
    Rule("restrict.scale_threshold", "restrict.scale_threshold/revenue-above",
         lambda v: v.span(v.first("REVENUE_CMP")) if v.doc_kind == "licence" else None, ("REVENUE_CMP",),
         description="a licence's rights that depend on revenue above or below an amount (in a law, a revenue "
                     "test defines who a duty applies to: not this tag)"),
    Rule("restrict.noncommercial", "restrict.noncommercial/non-commercial", _noncommercial, ("NONCOMM",),
         description="'non-commercial', 'for research purposes only', 'solely for evaluation' (licences)"),
    Rule("restrict.noncommercial", "restrict.noncommercial/no-commercial-purposes", _no_commercial, ("COMM_PURPOSE",),
         description="a licence's prohibition of commercial purposes"),
    together("restrict.use_policy", "restrict.use_policy/binds-policy", ("AUP_REF",), ("BIND",),
             description="the licensee is bound to a use policy or use restrictions"),
    Rule("restrict.use_policy", "restrict.use_policy/use-must-follow-terms", _use_must_follow, ("USE_MUST",),
         description="'Use of the Model must be consistent with <policy/terms>'"),
    Rule("restrict.use_policy", "restrict.use_policy/list-of-forbidden-uses", _list_intro, ("PROHIB",),
         description="a licence chapeau that opens a list of forbidden uses ('You agree not to use ...:')"),
    Rule("restrict.use_policy", "restrict.use_policy/safe-use-statement", _safe_use, ("SAFE_USE",), 0.7,
         "a use policy's statement of purpose ('use ... safely and responsibly'; licences and policies of use)"),
    Rule("restrict.prohibited_use", "restrict.prohibited_use/forbidden-harm", _forbidden_harm, ("HARM",), 0.8,
         "a licence sentence that forbids a named harm (weapons, surveillance, harassment ...)"),
    Rule("restrict.output_use", "restrict.output_use/output-ban", _output_ban, ("OUTPUT",),
         description="a ban on using outputs to improve/train other models"),
    any_of("restrict.geographic", "restrict.geographic/export-sanctions", "GEO_STRONG",
           description="export controls, sanctions, embargoes"),
    together("restrict.geographic", "restrict.geographic/location", ("GEO_PLACE",), ("GEO_RESTRICT",),
             description="rights withheld by domicile, residence or location"),
]
