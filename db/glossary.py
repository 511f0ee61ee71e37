"""Plain names for what the site shows: every tag and entity type with a label and its definition, and the
site's other terms (document kinds, change kinds, scopes, source states).

Tag ids, entity types and definitions are the taxonomy's (``../shared/taxonomy.yaml``; tests/test_glossary.py
checks them against the file when it is present); the labels are ours. :func:`publish_glossary` writes the
``glossary`` table of the public database, which the site reads (it imports none of this).
"""
from __future__ import annotations

from typing import Any

from sqlite_utils import Database

# group prefix of a tag id -> label
TAG_GROUPS: dict[str, str] = {
    "grant": "What it grants",
    "restrict": "What it restricts",
    "obligation": "What it obliges you to do",
    "licensor": "The licensor's own powers",
    "terms": "General legal terms",
    "policy": "Law and policy",
}

# tag id -> (label, definition from the taxonomy)
TAGS: dict[str, tuple[str, str]] = {
    "grant.use": ("Use permitted", "Permission to use, run, reproduce or copy the model, software or materials."),
    "grant.modify": ("Modification permitted",
                     "Permission to modify, adapt, fine-tune or create derivative works."),
    "grant.distribute": ("Redistribution permitted", "Permission to distribute, redistribute, publish, sublicense or "
                         "make available copies or derivatives."),
    "grant.commercial": ("Commercial use permitted", "The grant expressly covers commercial exploitation (sell, "
                         "offer for sale, commercial use, \"for any purpose\")."),
    "grant.patent": ("Patent licence", "An express patent licence from the licensor (including its termination on "
                     "patent litigation)."),
    "restrict.scale_threshold": ("Cap on users or size", "Rights depend on a size threshold of the licensee (monthly "
                                 "active users, revenue, number of users); above it a separate licence is needed."),
    "restrict.noncommercial": ("Non-commercial use only", "Use limited to non-commercial, research, evaluation or "
                               "personal purposes."),
    "restrict.use_policy": ("Bound by a use policy", "The licence binds the licensee to an acceptable-use / "
                            "prohibited-use policy or to a list of use restrictions (incorporation by reference, or "
                            "\"you will not use ... for\" restrictions in the licence itself)."),
    "restrict.prohibited_use": ("Prohibited use", "One specific prohibited use or behaviour (weapons, surveillance, "
                                "discrimination, disinformation, unlicensed professional advice, harming minors, "
                                "...), typically an item of a use policy or of a RAIL attachment."),
    "restrict.output_use": ("Limits on using outputs (e.g. to train other models)", "Restrictions on what may be "
                            "done with the model's outputs (e.g. not to train or improve other models)."),
    "restrict.geographic": ("Geographic or sanctions limits", "Rights withheld or limited by location, domicile or "
                            "nationality, or by sanctions/export-control regimes."),
    "obligation.attribution": ("Attribution and notices", "Keep notices, ship a copy of the licence, or display an "
                               "attribution statement (e.g. \"Built with ...\")."),
    "obligation.naming": ("Naming of derivatives", "Derivative works must carry (or must not carry) a given name or "
                          "prefix."),
    "obligation.share_alike": ("Share-alike", "Redistributed or derived works must use the same licence or pass the "
                               "same restrictions downstream."),
    "obligation.disclose_source": ("Source must be disclosed", "Source code (or the corresponding modifiable form) "
                                   "must be made available, including for network use."),
    "obligation.state_changes": ("Changes must be marked", "Modified files or works must be marked as changed."),
    "licensor.update_terms": ("Licensor may change the terms", "The licensor may change the licence or its policies "
                              "unilaterally, with effect on existing licensees."),
    "licensor.remote_restriction": ("Remote restriction or forced update", "The licensor may restrict use remotely, "
                                    "or the licensee must update to the latest version."),
    "terms.termination": ("Termination", "When and how the licence or rights terminate, and what happens then."),
    "terms.warranty_disclaimer": ("No warranty (\"as is\")", "Disclaimer of warranties (\"AS IS\")."),
    "terms.liability_limit": ("Liability limited", "Limitation or exclusion of liability or damages."),
    "terms.indemnity": ("You indemnify the licensor", "The licensee must indemnify, defend or hold harmless the "
                        "licensor."),
    "terms.trademark": ("Trademarks", "No trademark rights are granted, or trademark use is limited."),
    "terms.governing_law": ("Governing law and courts", "Governing law, jurisdiction, venue or dispute resolution."),
    "terms.output_ownership": ("Who owns the outputs", "Who owns, or who claims no rights in, the model's outputs "
                               "or the licensee's derivatives."),
    "policy.definition": ("Definition", "Defines a term (\"'general-purpose AI model' means ...\")."),
    "policy.open_source_exemption": ("Open-source exemption", "A special regime for free and open-source or openly "
                                     "released models, software or components (exemption, lighter obligation, or "
                                     "its exceptions)."),
    "policy.documentation": ("Documentation duties", "Duties to draw up or supply technical documentation or "
                             "information to authorities or downstream providers."),
    "policy.copyright": ("Copyright compliance", "Copyright compliance duties, including text-and-data-mining "
                         "opt-outs."),
    "policy.training_data_transparency": ("Training-data transparency", "Disclosure of training data or information "
                                          "about it (public summaries, data information, datasheets)."),
    "policy.systemic_risk": ("Systemic-risk and frontier models", "Frontier, dual-use or systemic-risk models and the "
                             "duties attached to them (evaluation, adversarial testing, incident reporting, "
                             "cybersecurity, safety protocols)."),
    "policy.compute_threshold": ("Compute threshold", "A threshold of training compute (FLOPs, operations) or cost "
                                 "that triggers a classification or duty."),
    "policy.prohibited_practice": ("Prohibited AI practice", "AI practices that the law itself prohibits."),
    "policy.transparency": ("Transparency and labelling", "Duties to tell people they interact with AI, or to mark, "
                            "label or watermark AI-generated content."),
    "policy.penalty": ("Fines and penalties", "Fines, penalties or other sanctions."),
    "policy.timeline": ("Dates and deadlines", "Entry into force, dates of application, deadlines or transition "
                        "periods."),
    "policy.governance": ("Oversight and enforcement", "Authorities, offices, codes of practice, reporting lines and "
                          "enforcement powers that oversee compliance."),
    "policy.recommendation": ("Recommendation or instruction", "A recommendation, directive or instruction to act "
                              "(to an agency, government or industry), as in reports and executive orders."),
    "policy.national_security": ("National security and export control", "National security, export controls, "
                                 "foreign adversaries or dual-use misuse concerns."),
    "policy.openness_criteria": ("What counts as open", "Criteria for what counts as open (freedoms to use, study, "
                                 "modify, share; preferred form for modification; required components)."),
}

# entity type -> (label, what it is; the value as the taxonomy normalises it)
ENTITY_TYPES: dict[str, tuple[str, str, str]] = {
    "DATE": ("Date", "A calendar date.", "ISO 8601 date (YYYY-MM-DD, or YYYY-MM where the day is not given)"),
    "USER_THRESHOLD": ("User threshold", "A number of users that a right or duty depends on.",
                       "number of users as an integer, plus unit (e.g. monthly_active_users)"),
    "MONEY": ("Amount of money", "An amount of money (a fine, a revenue threshold).",
              "amount as a number plus ISO 4217 currency (EUR, USD)"),
    "PERCENT": ("Percentage", "A percentage (of turnover, of users).", "number (7 for 7 %)"),
    "COMPUTE": ("Training compute", "An amount of computation, usually the compute used to train a model.",
                "floating-point operations as a number (1e25 for 10^25 FLOPs)"),
    "ARTICLE_REF": ("Reference to an article or section", "A cross-reference to a part of a document.",
                    "normalised reference, e.g. 'Article 53(1)(a)', 'Section 4.6', 'Annex XI'"),
    "LICENSE_REF": ("Reference to a licence", "A licence named in the text.",
                    "SPDX id where one exists (Apache-2.0, MIT), else the licence's name"),
    "DURATION": ("Duration", "A length of time (a notice period, a transition period).",
                 "ISO 8601 duration (P30D, P12M, P3Y)"),
}

# the site's other words: (type, term, label, definition)
TERMS: list[tuple[str, str, str, str]] = [
    ("document kind", "license", "Licence", "The terms under which a model, its weights or its software may be used."),
    ("document kind", "use-policy", "Use policy", "An acceptable-use or prohibited-use policy, often incorporated "
     "into a licence by reference."),
    ("document kind", "regulation", "Regulation", "A law (the EU AI Act)."),
    ("document kind", "bill", "Bill", "A legislative bill (enrolled, chaptered or vetoed)."),
    ("document kind", "executive-order", "Executive order", "An executive order of a head of government."),
    ("document kind", "guidance", "Guidance", "Guidelines, memoranda, plans and codes of practice."),
    ("document kind", "report", "Report", "A report of an agency or expert group."),
    ("document kind", "definition", "Definition", "A definition of what counts as open (the Open Source AI "
     "Definition)."),
    ("change kind", "added", "Added", "A clause that the newer text has and the older one had not."),
    ("change kind", "removed", "Removed", "A clause that the older text had and the newer one has not."),
    ("change kind", "modified", "Modified", "A clause reworded between the two texts."),
    ("change kind", "moved", "Moved", "A clause that moved to another place, unchanged or nearly so."),
    ("significance", "substantive", "Substantive", "A change that alters what the text means: a right, a duty, a "
     "number, a date."),
    ("significance", "cosmetic", "Cosmetic", "A change of form only: markup, spelling, punctuation, numbering, "
     "layout (the reasons are shown with the change)."),
    ("scope", "version", "New version", "A new text of the same document at the same address."),
    ("scope", "release", "New release", "The first text of a release, compared with the previous release of its "
     "family (Llama 3.1 against Llama 3)."),
    ("scope", "incorporated", "Through an incorporated policy", "A change of a policy that a licence incorporates "
     "by reference, shown with the licence too (counted once, under the policy)."),
    ("source state", "ok", "Up to date", "The last fetch succeeded."),
    ("source state", "never fetched", "Never fetched", "Declared, but no text is stored yet (not fetched yet, or the "
     "replay corpus has no copy of it)."),
    ("source state", "failing", "Failing", "The last fetch failed or the page is gone; the stored versions are kept."),
    ("source state", "held for review", "Held for review", "A fetched page looked like a replacement (maintenance, "
     "captcha, login, drastic shrink) and waits for an operator (`clausewatch held`)."),
    ("source state", "inactive", "No longer tracked", "The declaration was removed; the stored versions are kept."),
    ("document", "rendition", "Rendition", "One of several copies of one document in different formats (HTML, PDF, "
     "Formex XML); the site lists the document once and checks that its renditions agree."),
]


def glossary_rows() -> list[dict[str, Any]]:
    """The rows of the ``glossary`` table, in display order."""
    rows: list[dict[str, Any]] = []
    for prefix, label in TAG_GROUPS.items():
        rows.append({"term": prefix, "type": "tag group", "grp": None, "label": label,
                     "definition": f"Tags {prefix}.*: {label.lower()}."})
    for tag, (label, definition) in TAGS.items():
        rows.append({"term": tag, "type": "tag", "grp": tag.split(".")[0], "label": label, "definition": definition})
    for entity, (label, definition, value) in ENTITY_TYPES.items():
        rows.append({"term": entity, "type": "entity type", "grp": None, "label": label,
                     "definition": f"{definition} Value: {value}."})
    for kind, term, label, definition in TERMS:
        rows.append({"term": f"{kind}:{term}" if kind != "document" else term, "type": kind, "grp": None,
                     "label": label, "definition": definition})
    for ordinal, row in enumerate(rows):
        row["ordinal"] = ordinal
    return rows


def publish_glossary(db: Database) -> bool:
    """Bring the ``glossary`` table up to date; True when it was rewritten (False: unchanged or no table yet)."""
    if not db["glossary"].exists():
        return False
    wanted = [(r["term"], r["type"], r["grp"], r["label"], r["definition"], r["ordinal"]) for r in glossary_rows()]
    stored = [tuple(r) for r in db.execute(
        "SELECT term, type, grp, label, definition, ordinal FROM glossary ORDER BY ordinal, term")]
    if stored == wanted:
        return False
    with db.atomic():
        db.execute("DELETE FROM glossary")
        db["glossary"].insert_all(glossary_rows())
    return True


def tag_label(tag: str) -> str:
    """The label of a tag id (the id itself for a tag the glossary does not know)."""
    return TAGS.get(tag, (tag, ""))[0]
