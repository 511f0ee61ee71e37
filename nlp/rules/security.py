"""policy.recommendation and policy.national_security.

- recommendation (executive orders, reports, plans only): an agency or official as the subject of
  shall/should/will/must ("the Secretary of Commerce ... shall"), "recommends", or an item of a
  list of policies/actions (context.py);
- national_security (everywhere, licences included): military uses, warfare, espionage, weapons of
  mass destruction (CBRN, nuclear), attacks on critical infrastructure, export control, sanctions,
  ITAR, foreign adversaries, national defence, offensive cyber operations. "National security" as a
  bare topic word ("our economic and national security") is not enough: it needs an operative noun
  ("national security systems/purposes/risks") or "threats to national security".
"""
from __future__ import annotations

from clausewatch.nlp.rules.base import ClauseView, Rule, any_of, combos

_MILITARY_NEXT = ["use", "uses", "purposes", "purpose", "applications", "application", "operations", "end-use",
                  "end use", "activities", "capabilities", "and", "or", ",", "intelligence", "domain", "systems",
                  "end user", "end users", "end-user", "end-users", "forces", "organizations", "organisations"]
_OPERATIVE = ["system", "systems", "purposes", "purpose", "risk", "risks", "threat", "threats", "implications",
              "concerns", "agencies", "community", "mission", "missions", "interests", "applications", "uses", "use",
              "memorandum", "officials", "information", "reasons"]
PHRASES = {
    "AGENCY": ["secretary", "director", "administrator", "attorney general", "heads of agencies",
               "head of each agency", "heads of", "agencies", "agency", "department", "departments", "office of",
               "assistant to the president", "federal government", "congress", "chair", "council", "nist",
               "ostp", "omb", "ntia", "federal agencies", "commerce", "secretaries", "the president", "committee",
               "national cyber director"],
    "MODAL": ["shall", "should", "will", "must", "is directed to", "are directed to", "is encouraged to",
              "are encouraged to", "is hereby directed", "are hereby directed", "shall consider", "is requested",
              "are requested"],
    "RECO": ["recommend", "recommends", "recommended", "recommendation", "recommendations", "we urge", "urges"],
    "POLICY_LIST": ["policies", "actions", "recommendations", "steps", "measures", "priorities", "directives",
                    "policy actions", "key policies"],
    "REVOKED": ["revoked", "rescinded", "hereby revoked", "superseded"],
    "NATSEC": ["warfare", "espionage", "weapons of mass destruction", "nuclear", "chemical, biological, radiological",
               "cbrn", "biological weapons", "chemical weapons", "bioweapons", "bioweapon", "radiological",
               "export control", "export controls", "export laws", "export administration", "sanctions",
               "sanctioned", "itar", "international traffic in arms", "international traffic arms",
               "foreign adversary", "foreign adversaries", "countries of concern", "country of concern",
               "national defense", "national defence", "offensive cyber", "cyber operations",
               "intelligence community", "defense industrial base", "missile", "missiles",
               "critical infrastructure attacks", "attacks on critical infrastructure", "nonproliferation",
               "counterintelligence", "embargo", "embargoed", "armed forces", "military and intelligence",
               "weaponization", "restricted party", "restricted parties", "restricted party list",
               "denied party", "denied parties", "entity list", "specially designated nationals", "sdn list"],
}
PHRASES["NATSEC"] += [*combos("military ", _MILITARY_NEXT), "for military", "in military",
                      *combos("national security ", _OPERATIVE),
                      *combos(["to ", "against ", "of "], "national security")]


def _instruction(view: ClauseView) -> str | None:
    if view.doc_kind != "policy":
        return None
    found = view.pair(("AGENCY",), ("MODAL",), ordered=True, window=70)
    return view.span(*found) if found else None


def _recommends(view: ClauseView) -> str | None:
    if view.doc_kind != "policy":
        return None
    hit = view.first("RECO")
    return view.span(hit) if hit else None


RULES = [
    Rule("policy.recommendation", "policy.recommendation/agency-shall", _instruction, ("AGENCY",),
         description="an agency or official directed to act (executive orders, reports)"),
    Rule("policy.recommendation", "policy.recommendation/recommends", _recommends, ("RECO",), 0.8,
         description="an explicit recommendation (executive orders, reports)"),
    any_of("policy.national_security", "policy.national_security/security-terms", "NATSEC",
           description="military use, WMD/CBRN, export control, sanctions, foreign adversaries, cyber operations"),
]
