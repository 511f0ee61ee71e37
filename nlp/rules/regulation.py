"""policy.* tags of laws and standards: definitions, the open-source regime, openness criteria and the
duties a regulation attaches to models (documentation, copyright, training-data summaries, systemic
risk, compute thresholds, prohibited practices, transparency, penalties, timelines, governance).
Topic duties of laws are only read in laws and policy documents ("copyright" in a licence is not a
copyright-compliance duty); "prohibited" makes policy.prohibited_practice only in a law.
"""
from __future__ import annotations

import re

from clausewatch.nlp.rules.base import (
    CLOSE_QUOTES,
    OPEN_QUOTES,
    ClauseView,
    Rule,
    any_of,
    combos,
    together,
    verbs,
)

PHRASES = {
    "DEF": [*combos([*CLOSE_QUOTES, ")"], " ", ["means", "mean", "refers"]),
            *combos("the ", ["term ", "terms "], OPEN_QUOTES),
            "shall mean", "the following definitions apply", "for the purposes of this definition", "is defined as",
            "are defined as",
            "has the meaning", "have the meaning", "hereinafter referred to as", "have the respective meanings",
            "has the same meaning", "have the same meaning"],
    "OSS": ["open-source licence", "open source licence", "open-source license", "open source license",
            "open-source", "open source", "openly released", "open-weight", "open weights", "open-weights",
            "widely available weights", "publicly available weights"],
    "EXEMPT": ["shall not apply", "does not apply", "do not apply", "not apply", "exempt", "exempted", "exemption",
               "exemptions", "exception", "exceptions", "shall not be subject", "is not subject", "are not subject",
               "derogation", "lighter"],
    "OPEN_CRIT": ["open source definition", "open source ai definition", "four freedoms"],
    "PREFERRED_W": ["preferred form"],
    "REQ_NOUN": ["required", "requirement", "requirements", "sufficient", "criteria", "criterion", "freedoms",
                 "conditions"],
    "MODIF_N": ["modifications", "modification", "modifying", "changes"],
    "LICENCE": ["licence", "license", "licences", "licenses"],
    "ALLOWS": [*verbs("allow", "permit", "grant"), "must allow", "allows for"],
    "PUBLIC": ["made publicly available", "publicly available", "made available to the public"],
    "WEIGHTS": ["weights", "parameters"],
    "DOC_STRONG": ["technical documentation", "information and documentation", "documentation and information",
                   "model documentation", "keep records", "maintain records", "record-keeping", "record keeping"],
    "INFO_VERB": [*verbs("provide", "supply", "submit", "furnish", "disclose"), "make available", "made available"],
    "INFO_NOUN": ["information", "documentation", "records", "reports"],
    "INCIDENT": ["incident", "incidents", "serious incident"],
    "COPYRIGHT": ["on copyright", "copyright law", "copyright laws",
                  "text and data mining", "text-and-data-mining", "text and data-mining", "reservation of rights",
                  "rights reservation", "opt-out", "opt out", "copyright policy", "copyright compliance",
                  "copyrighted", "robots.txt", "copyright holders", "copyright protection"],
    "TDT_STRONG": ["datasheets", "datasheet", "data provenance", "training data transparency", "training data summary",
                   "data card", "data cards"],
    "CONTENT_N": ["data", "content", "datasets", "dataset", "data sets", "corpus", "corpora", "material",
                  "materials", "works"],
    "TRAINED_W": ["training", "trained", "train", "pre-training", "pretraining", "fine-tuning"],
    "HOW_W": ["how"],
    "DISCLOSE": ["information", "summary", "description", "disclose", "disclosure", "documentation", "provenance",
                 "publish", "made publicly available", "transparency", "documentation"],
    "SYSTEMIC": ["systemic risk", "systemic risks", "dual-use foundation model", "dual-use foundation models",
                 "frontier model", "frontier models", "frontier ai", "frontier large language model",
                 "frontier large language models", "frontier ai models", "red-team", "red-teaming", "red team",
                 "red teaming", "adversarial testing", "serious incident", "serious incidents", "covered model",
                 "covered models", "critical harm", "critical harms", "model evaluation", "high-impact capabilities",
                 "high impact capabilities", "safety and security protocol", "catastrophic risk",
                 "catastrophic risks", "frontier developer", "frontier developers"],
    "COMPUTE_T": ["floating point operations", "floating-point operations", "floating point operation",
                  "floating-point operation", "flops", "flop", "integer or floating-point", "operations per second",
                  "computing power greater than", "compute threshold", "training compute",
                  "cumulative amount of computation", "amount of computation"],
    "CLUSTER": ["computing cluster", "computing clusters"],
    "CLUSTER_COND": ["conditions", "threshold", "thresholds", "capacity", "greater than", "exceeds", "exceed",
                     "more than"],
    "PROHIBITED": ["shall be prohibited", "prohibited ai practices", "prohibited practices", "prohibited ai practice",
                   "is prohibited", "are prohibited", "prohibition of"],
    "TRANSP": ["deep fake", "deep fakes", "deepfake", "deepfakes", "watermark", "watermarks", "watermarking",
               "watermarked", "synthetic content", "ai-generated content", "content provenance",
               "provenance of content", "authenticating content", "ai detection tool", "ai detection tools",
               "manifest disclosure", "latent disclosure", "manifest disclosures", "latent disclosures"],
    "INFORM_V": [*verbs("inform", "notify", "tell"), "made aware", "be aware", "provided to", "disclosed to",
                 "disclose to"],
    "PERSONS_N": ["natural persons", "natural person", "persons concerned", "person concerned", "users", "end users",
                  "individuals", "people", "the public", "consumers", "viewers", "audience"],
    "AI_TOPIC": ["interaction", "interacting", "interact", "exposure", "exposed", "chatbot", "chatbots",
                 "subject to the use", "artificially generated", "ai-generated", "emotion recognition",
                 "biometric categorisation", "talking to", "communicating with"],
    "FINE": ["fine", "fines", "penalty", "penalties", "periodic penalty payment", "periodic penalty payments",
             "administrative fine", "administrative fines", "civil penalty", "civil penalties"],
    "PEN_CTX": [*verbs("impose"), "not exceeding", "up to", "amount of the", "administrative", "civil",
                "subject to", "infringement", "infringements", "liable for", "dissuasive", "lay down the rules",
                "shall be punishable", "recover"],
    "TIMELINE": ["enter into force", "enters into force", "entered into force", "entry into force", "shall apply from", "apply from", "shall be applicable from",
                 "applicable from", "date of application", "transitional period", "transition period",
                 "shall take effect", "takes effect", "take effect", "effective date", "become effective",
                 "shall become operative", "operative on", "shall apply until"],
    "LABEL_W": [*verbs("label", "mark", "watermark", "disclose", "identify", "detect"), "labelling", "labeling",
                "detection", "detectable", "disclosure", "disclosures"],
    "GEN_CONTENT": ["artificially generated", "ai-generated", "ai generated", "machine-generated", "synthetic content",
                    "synthetic audio", "synthetic image", "synthetic images", "synthetic video", "synthetic text",
                    "synthetic media", "deep synthesis", "manipulated content", "generated content",
                    "generated by ai", "generated by artificial intelligence"],
    "MEET_V": [*verbs("meet", "satisfy"), "fall within", "falls within", "qualify"],
    "DEFINITION_N": ["definition", "definitions"],
    "MEANS_W": ["means", "shall mean"],
    "DEF_INTRO": ["as used in", "as used herein", "for purposes of", "for the purposes of"],
    "DEF_CONSIDERED": ["are considered", "is considered", "are deemed", "is deemed"],
    "ESTABLISH_V": [*verbs("establish", "create"), "set up"],
    "BODY_N": ["council", "office", "board", "committee", "institute", "panel", "agency", "task force"],
    "REPORT_V": combos(["to ", "shall ", "must ", "and "], "report"),
    # a body is governance when it acts (subject of shall/may) or is set up; a duty that only names the
    # authority receiving a report is not
    "GOV_BODY": ["ai office", "commission", "board", "ai board", "market surveillance authority",
                 "market surveillance authorities", "notified body", "notified bodies", "national competent authority",
                 "national competent authorities", "scientific panel", "advisory forum", "ai safety institute",
                 "authorised representative", "authorized representative", "supervisory authority",
                 "competent authorities", "oversight board"],
    "MODAL_W": ["shall", "may", "should", "will", "must", "is empowered", "are empowered", "shall be empowered"],
    "APPOINT_V": verbs("appoint", "designate", "mandate"),
    "REP_N": ["representative", "representatives", "authority", "authorities", "body", "bodies"],
    "GOVERN": ["task force", "working group", "code of practice", "codes of practice", "delegated act",
               "delegated acts", "implementing act", "implementing acts", "enforcement powers",
               "supervision and enforcement", "is hereby established", "regulatory sandbox", "regulatory sandboxes",
               "governance structure", "shall designate"],
}
NEAR = {"GOVERN": [("ESTABLISH_V", "BODY_N", 5), ("GOV_BODY", "MODAL_W", 1), ("APPOINT_V", "REP_N", 4)],
        "DEF": [("MEET_V", "DEFINITION_N", 2)],
        "PREFERRED_FORM": [("PREFERRED_W", "MODIF_N", 5)],
        "TRAIN_DATA": [("CONTENT_N", "TRAINED_W", 6), ("TRAINED_W", "CONTENT_N", 1), ("HOW_W", "TRAINED_W", 4)]}
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
_MONTH_RE = re.compile(_MONTH)
DATE_BOUND = re.compile(
    r"\b(?:before|after|on and after|on or after|on or before|no later than|not later than|beginning(?: on)?|"
    r"commencing(?: on)?|starting(?: on)?|until|as of|effective|from|by|prior to)\s+(?:the\s+)?"
    rf"(?:{_MONTH}\s+\d{{1,2}},?\s+(?:19|20)\d\d|\d{{1,2}}\s+{_MONTH}\s+(?:19|20)\d\d)", re.I)
_PAREN_DEF = re.compile(r"\([^()]{0,80}?[“\"‘][A-Z][^”\"’()]{0,40}[”\"’][^()]{0,30}\)")
NOT_LICENCE = ("law", "policy")
# an openness definition states requirements (must, may ...) about the licence, model, weights, data ...
FREEDOMS = frozenset("access usage use study modification modify distribution distribute share redistribution "
                     "redistribute inspect".split())
PARTIES = frozenset("companies company providers provider developers developer deployers deployer organizations "
                    "organisations entities entity licensee".split())
REQ_WORDS = frozenset("must shall should may required requirement requirements sufficient criteria criterion "
                      "freedoms freedom conditions".split())
OPEN_OBJECTS = frozenset("license licence licenses licences model models weights parameters data code software "
                         "system systems recipients purpose components information definition".split())


def _definition(view: ClauseView) -> str | None:
    if not view.has("DEF", "MEANS_W", "DEF_INTRO", "DEF_CONSIDERED") and view.text.count("(") < 3:
        return None
    hit = view.first("DEF")
    if hit:
        return view.span(hit)
    means = _term_means(view)
    if means:
        return means
    for hit in view.all("DEF_INTRO"):           # "As used in this chapter:" opening a list of definitions
        follows = view.doc[hit.end].lower_ if hit.end < len(view.doc) else ""
        if hit.start <= 1 and follows in ("this", "these") and (
                view.text.rstrip().endswith(":") or any(t.text in OPEN_QUOTES for t in view.doc[hit.end:hit.end + 12])):
            return view.span(hit)
    for hit in view.all("DEF_CONSIDERED"):      # "are considered Use-based restrictions"
        if hit.end < len(view.doc) and view.doc[hit.end].is_title:
            return view.span(hit)
    if view.text.count("(") >= 3 and len(_PAREN_DEF.findall(view.text)) >= 3:
        return _PAREN_DEF.search(view.text).group(0)
    return None


def _term_means(view: ClauseView) -> str | None:
    """'Adapted Material means ...' (a capitalised term opening the clause, then 'means') or
    'The "Corresponding Source" for a work ... means' (a quoted term in the first words)."""
    means = view.hits_of("MEANS_W")
    if not means:
        return None
    quote_at = next((i for i in range(min(4, len(view.doc))) if view.doc[i].text in OPEN_QUOTES), None)
    for hit in means:
        if quote_at is not None and hit.start <= 25:
            return view.doc[quote_at:hit.end].text
        if 0 < hit.start <= 8 and all(t.text[:1].isupper() or t.text in ("'s", "-", "’s", "'")
                                      for t in view.doc[:hit.start]):
            return view.doc[0:hit.end].text
        break
    return None


def definition_clause(view: ClauseView) -> bool:
    """The clause is a definition ('"X" means ...' near its start, or three (“Term”) parentheticals),
    not a provision that also defines a term ("are considered Use-based restrictions")."""
    if any(hit.start <= 20 for hit in view.all("DEF")) or _term_means(view):
        return True
    return not view.has("DEF", "DEF_CONSIDERED") and _definition(view) is not None


def _exemption(view: ClauseView) -> str | None:
    if view.doc_kind == "licence" or not view.has("OSS", "EXEMPT"):
        return None
    oss, exempt = view.first("OSS"), view.first("EXEMPT")
    return view.span(exempt, oss) if oss and exempt else None


def _openness(view: ClauseView) -> str | None:
    """What counts as open: a licence allowing three or more of access/use/study/modify/share (laws,
    reports), weights made public under an open licence, the Open Source Definition, and in a document
    that defines openness, each requirement it states (must/may/shall ... about the licence, model,
    weights, data, code or freedoms)."""
    openness_doc = view.extra.get("openness_doc")
    if not openness_doc and not view.has("OPEN_CRIT", "ALLOWS", "PUBLIC"):
        return None
    hit = view.first("OPEN_CRIT")
    if hit:
        return view.span(hit)
    if openness_doc:
        for sent in range(len(view.extra["sentences"])):
            if view.has_word(sent, REQ_WORDS) and view.has_word(sent, OPEN_OBJECTS):
                start, end = view.extra["sentences"][sent]
                return view.doc[start:min(end, start + 12)].text
        hit = view.first("PREFERRED_FORM")
        if hit:
            return view.span(hit)
    for allow in view.all("ALLOWS"):
        licence = [h for h in view.all("LICENCE") if h.sent == allow.sent and 0 < allow.start - h.start <= 4]
        freedoms = {w[:5] for w in view.sentence_words(allow.sent) if w in FREEDOMS}
        if licence and len(freedoms) >= 3:
            return view.span(licence[-1], allow)
    found = view.pair(("PUBLIC",), ("WEIGHTS",))
    if found and view.has("OSS"):
        return view.span(*found)
    return None


def _documentation(view: ClauseView) -> str | None:
    if view.doc_kind == "licence" or view.has("INCIDENT"):
        return None
    hit = view.first("DOC_STRONG")
    if hit:
        return view.span(hit)
    for verb_hit in view.all("INFO_VERB", "REPORT_V"):
        if not view.has_word(verb_hit.sent, PARTIES):
            continue
        if verb_hit.label == "REPORT_V":
            return view.span(verb_hit)
        nouns = [h for h in view.all("INFO_NOUN") if h.sent == verb_hit.sent]
        if nouns:
            return view.span(verb_hit, nouns[0])
    return None


def _gated(label: str, kinds: tuple[str, ...]):
    def fn(view: ClauseView) -> str | None:
        if view.doc_kind not in kinds:
            return None
        hit = view.first(label)
        return view.span(hit) if hit else None
    return fn


def _transparency(view: ClauseView) -> str | None:
    """Telling people they deal with AI, or marking AI-generated content (laws and policy documents): deep
    fakes, watermarks, machine-readable marking; 'label/disclose ... generated or manipulated'; 'inform
    the natural persons ... interacting with an AI system'."""
    if view.doc_kind == "licence":
        return None
    hit = view.first("TRANSP")
    if hit:
        return view.span(hit)
    found = view.pair(("LABEL_W",), ("GEN_CONTENT",), window=12)
    if found:
        return view.span(*found)
    for inform in view.all("INFORM_V"):
        persons = [p for p in view.all("PERSONS_N") if p.sent == inform.sent and abs(p.start - inform.start) <= 8]
        topic = [t for t in view.all("AI_TOPIC") if t.sent == inform.sent]
        if persons and topic:
            return view.span(inform, persons[0])
    return None


def _training_data(view: ClauseView) -> str | None:
    hit = view.first("TDT_STRONG")
    if hit:
        return view.span(hit)
    found = view.pair(("TRAIN_DATA",), ("DISCLOSE",))
    return view.span(*found) if found else None


def _compute(view: ClauseView) -> str | None:
    hit = view.first("COMPUTE_T", "COMPUTE_NUM")
    if hit:
        return view.span(hit)
    found = view.pair(("CLUSTER",), ("CLUSTER_COND",))
    return view.span(*found) if found else None


def _timeline(view: ClauseView) -> str | None:
    """Entry into force, dates of application, transition periods; in laws and bills also a date that opens
    or closes a rule ('Before January 1, 2027, ...', 'On and after January 1, 2026, ...', 'by 2 August
    2027'). Not in licences (a version's effective date), and a deadline set for an agency in an order or
    report ('within 90 days') is not one."""
    if view.doc_kind == "licence":
        return None
    hit = view.first("TIMELINE")
    if hit:
        return view.span(hit)
    if view.doc_kind == "law" and (" 20" in view.text or " 19" in view.text):
        for month in _MONTH_RE.finditer(view.text):      # anchored on the month: cheaper than the bound first
            found = DATE_BOUND.search(view.text, max(0, month.start() - 40), month.end() + 12)
            if found:
                return found.group(0)
    return None


RULES = [
    Rule("policy.definition", "policy.definition/means", _definition, (),
         description="'X means ...', 'shall mean', 'has the meaning', three or more (“Term”) definitions"),
    Rule("policy.open_source_exemption", "policy.open_source_exemption/oss-exempt", _exemption, ("OSS",),
         description="a duty that does not apply to free and open-source / openly released work"),
    Rule("policy.openness_criteria", "policy.openness_criteria/criteria", _openness,
         ("OPEN_CRIT", "ALLOWS", "PUBLIC", "PREFERRED_FORM", "MODAL_W", "REQ_NOUN"),
         description="what counts as open: a licence allowing access, use, modification and distribution"),
    Rule("policy.documentation", "policy.documentation/supply-information", _documentation,
         ("DOC_STRONG", "INFO_VERB", "REPORT_V"),
         description="draw up / supply technical documentation or information (laws and policies)"),
    Rule("policy.copyright", "policy.copyright/copyright-compliance", _gated("COPYRIGHT", NOT_LICENCE), ("COPYRIGHT",),
         description="copyright compliance, text-and-data-mining opt-outs (laws and policies)"),
    Rule("policy.training_data_transparency", "policy.training_data_transparency/training-data-info",
         _training_data, ("TDT_STRONG", "TRAIN_DATA"), description="disclosure of training data information"),
    any_of("policy.systemic_risk", "policy.systemic_risk/frontier-systemic", "SYSTEMIC",
           description="systemic risk, dual-use foundation models, frontier models, red-teaming"),
    Rule("policy.compute_threshold", "policy.compute_threshold/flops", _compute,
         ("COMPUTE_T", "COMPUTE_NUM", "CLUSTER"), description="a training-compute threshold (10^25 FLOPs ...)"),
    Rule("policy.prohibited_practice", "policy.prohibited_practice/prohibited", _gated("PROHIBITED", ("law",)),
         ("PROHIBITED",), description="practices a law prohibits"),
    Rule("policy.transparency", "policy.transparency/disclose-ai", _transparency, ("TRANSP", "LABEL_W", "INFORM_V"),
         description="tell people they interact with AI; mark or label AI-generated content (laws, policies)"),
    together("policy.penalty", "policy.penalty/fines", ("FINE",), ("PEN_CTX",), unless=("INDEMNITY",),
             description="fines and penalties"),
    Rule("policy.timeline", "policy.timeline/application-dates", _timeline, (),
         description="entry into force, dates of application, transitional periods; in laws a date that opens or "
                     "closes a rule ('Before January 1, 2027')"),
    Rule("policy.governance", "policy.governance/bodies", _gated("GOVERN", NOT_LICENCE), ("GOVERN",),
         description="bodies, codes of practice, representatives, enforcement mechanics (laws and policies)"),
]
