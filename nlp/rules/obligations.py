"""obligation.*: what a licence requires of the licensee.

- attribution: give recipients a copy of the licence, keep/retain (or not remove) copyright and
  attribution notices, ship a NOTICE text file, display "Built with ...", give appropriate credit;
- naming: a model name must begin with / carry a given name or prefix;
- share_alike: the same licence or the same use restrictions must travel downstream;
- disclose_source: the (Corresponding) Source must be made available, including for network use;
- state_changes: modified files must carry notices stating the change.
Cues in a sentence about trademarks ("... except as required ... reproducing the content of the NOTICE
file") do not count as attribution.
"""
from __future__ import annotations

from clausewatch.nlp.rules.base import QUOTES, ClauseView, Rule, any_of, combos, together, verbs

PHRASES = {
    "COPY_N": ["copy", "copies", "text", "full text"],
    "LICENCE_N": ["license", "licence", "agreement", "public license", "public licence", "terms", "gpl", "gnu"],
    "LICENSE_COPY": ["uri or hyperlink to", "hyperlink to this license", "hyperlink to this public license",
                     "link to this license", "link to this licence"],
    "OBTAIN": ["obtain", "may obtain", "can obtain", "available at"],
    "ATTRIB_NOTICE": [*combos("notice", ["", *QUOTES], " text file"),
                      *combos(QUOTES, ["built", "powered", "made", "created"], " ", ["with", "by", "using", "on"]),
                      "attribution notice", "attribution notices", "appropriate credit", "give credit",
                      "provide attribution", "give attribution", "attribution statement", "attribution text",
                      "credit the", "attribution requirements"],
    "ACK_N": ["acknowledgement", "acknowledgment", "acknowledgements", "acknowledgments"],
    "NOT_REQUIRED": ["not required", "appreciated", "optional", "is welcome", "would be welcome"],
    "COPYRIGHT_NOTICE": ["copyright notice", "copyright notices", "proprietary notices", "permission notice",
                         "copyright statement", "legal notices", "notices of copyright", "notice of copyright",
                         "license notices", "licence notices", "copyright line", "copyright lines"],
    "ADVICE": ["recommend", "we also recommend", "to apply the"],
    "THIS_NOTICE": ["this notice", "the above notice", "all notices", "such notices", "the notices",
                    "this permission notice", "this entire statement"],
    "RETAIN_V": [*verbs("retain", "keep", "preserve", "reproduce")],
    "KEEP_V": [*verbs("retain", "keep", "preserve", "reproduce", "alter", "remove", "obscure", "include", "appear"),
               "intact", "remain", "be included"],
    "NAME": ["name", "names", "model name", "prefix", "named", "naming"],
    "NAME_POS": ["at the beginning of", "begin with", "begins with", "start with", "starts with", "prefix",
                 "prefixed", "must not be called", "may not be called", "shall not be called", "rename", "renamed",
                 "must not be named", "appear in their name", "appear in their names"],
    "SHARE_ALIKE": ["same license", "same licence", "same terms", "same restrictions", "sharealike", "share-alike",
                    "share alike", "license the entire work", "licence the entire work", "flow down",
                    "no less restrictive", "at least as restrictive", "under the same license",
                    "under the same licence", "same or a compatible license", "compatible license", "copyleft",
                    "subject to the same"],
    "SAME_W": ["same", "identical"],
    "DOWNSTREAM_N": ["restrictions", "use-based restrictions", "use restrictions", "license", "licence",
                     "license terms", "licence terms", "freedoms"],
    "ENFORCEABLE_W": ["enforceable"],
    "PROVISION_N": ["provision", "provisions", "term", "terms", "condition", "conditions"],
    "PASS_ON": ["pass on", "passes on", "pass along", "pass down", "flow through"],
    "REQUIRE_V": [*verbs("require", "oblige", "obligate", "ensure", "cause")],
    "USERS_N": ["your users", "all of your users", "its users", "recipients", "sublicensees", "downstream",
                "licensees", "end users", "any third party", "third parties", "anyone who receives"],
    "COMPLY_V": [*verbs("comply", "abide", "adhere"), "be bound", "agree to", "to accept"],
    "UNDER_THIS": ["under the terms of this license", "under the terms of this licence", "under this license",
                   "under this licence", "under the terms of this agreement", "under this agreement",
                   "under this public license", "under the terms of this public license", "under these terms",
                   "under the terms of section"],
    "DIST_CTX": [*verbs("distribute", "redistribute", "convey", "sublicense", "publish"), "distribution",
                 "made available", "make available", "licensed", "as a whole", "modifications", "derivative works"],
    "SUBMIT": [*verbs("submit"), "submission", "contribution", "contributions"],
    "CORR_SOURCE": ["corresponding source", "corresponding machine-readable source code",
                    "complete source code", "interacting with it remotely", "remote network interaction",
                    "interacts with it remotely", "users interacting with"],
    "SOURCE_CODE": ["source code"],
    "SRC_AVAIL": ["make available", "made available", "make it available", "makes available", "disclose",
                  "publish", "accompanied by", "accompany", "provide", "offer", "available"],
    "INDICATE_V": [*verbs("indicate", "state", "note", "describe", "document", "identify", "mark", "flag",
                          "summarize", "summarise", "list"), "say", "says", "saying", "indication", "summary",
                   "record of"],
    "CHANGED_W": ["changed", "modified", "altered", "amended", "changes", "modifications", "alterations",
                  "change", "modification"],
    "ALTERED_ADJ": ["altered", "modified", "changed"],
    "MARKED_V": ["marked", "labelled", "labeled", "identified", "designated"],
    "LICENSOR_SUBJ": ["we", "licensor", "our", "the foundation", "the steward"],
}
DISPLAY_WORDS = frozenset([*verbs("display", "include", "show", "contain"), "must", "shall"])
GIVE_WORDS = frozenset([*verbs("give", "provide", "include", "accompany", "deliver", "ship", "supply", "attach", "hand"),
                        "together", "along", "accompanied"])
DUTY_WORDS = frozenset(["must", "shall", "not", "required", "agree", "provided", "condition", "long"])
ONLY_MUST = frozenset(["must", "shall", "only", "required", "have"])
MUST_WORDS = frozenset(["must", "shall", "required", "agree", "obliged", "have"])
NEAR = {
    "LICENSE_COPY": [("COPY_N", "LICENCE_N", 3)],
    "SHARE_ALIKE": [("SAME_W", "DOWNSTREAM_N", 3), ("ENFORCEABLE_W", "PROVISION_N", 1)],
    "STATE_CHANGE": [("INDICATE_V", "CHANGED_W", 4), ("ALTERED_ADJ", "MARKED_V", 6)],
}


def _licence_copy(view: ClauseView) -> str | None:
    """Give recipients a copy of the licence (not 'you may obtain a copy of the License at ...')."""
    blocked = {h.sent for h in view.all("OBTAIN")}
    for hit in view.all("LICENSE_COPY"):
        if hit.sent not in blocked and view.has_word(hit.sent, GIVE_WORDS):
            return view.span(hit)
    return None


def _disclose(view: ClauseView) -> str | None:
    hit = view.first("CORR_SOURCE")
    if hit:
        return view.span(hit)
    for src in view.all("SOURCE_CODE"):
        avail = [h for h in view.all("SRC_AVAIL") if h.sent == src.sent]
        if avail and view.has_word(src.sent, MUST_WORDS):
            return view.span(src, avail[0])
    return None


def _same_sentence(view: ClauseView, first: str, *others: str) -> str | None:
    """A hit of ``first`` and of each of ``others`` in one sentence."""
    for hit in view.all(first):
        found = [next((h for h in view.all(o) if h.sent == hit.sent), None) for o in others]
        if all(found):
            return view.span(hit, *found)
    return None


def _share_alike(view: ClauseView) -> str | None:
    """The same licence or restrictions travel downstream: 'same licence', 'as an enforceable provision',
    'require your users to comply', 'must be distributed under this License' (not a contribution's terms)."""
    blocked = {h.sent for h in view.all("SUBMIT")}
    for hit in view.all("SHARE_ALIKE"):
        if hit.sent not in blocked:
            return view.span(hit)
    for hit in view.all("PASS_ON"):
        if any(h.sent == hit.sent and h.start > hit.start for h in view.all("SAME_W", "DOWNSTREAM_N")):
            return view.span(hit)
    found = _same_sentence(view, "REQUIRE_V", "USERS_N", "COMPLY_V")
    if found:
        return found
    for hit in view.all("UNDER_THIS"):
        if hit.sent in blocked or not view.has_word(hit.sent, ONLY_MUST):
            continue
        must_be = hit.start >= 2 and view.doc[hit.start - 1].lower_ == "be" and \
            view.doc[hit.start - 2].lower_ in ONLY_MUST
        if (must_be or any(h.sent == hit.sent and 0 <= hit.start - h.end <= 8 for h in view.all("DIST_CTX"))) \
                and any(h.sent == hit.sent and h.start < hit.start for h in view.all("DIST_CTX")):
            return view.span(hit)    # "... must be distributed / made available / licensed as a whole under this License"
    return None


def _state_changes(view: ClauseView) -> str | None:
    """Changes must be marked: 'a note saying that you altered the file', 'indicate if changes were
    made', 'altered versions must be plainly marked as such' (not the licensor's own changes)."""
    for hit in view.all("STATE_CHANGE"):
        if not any(s.sent == hit.sent and 0 <= hit.start - s.end <= 6 for s in view.all("LICENSOR_SUBJ")):
            return view.span(hit)
    return None


def _ack(view: ClauseView) -> str | None:
    """'must display the following acknowledgement' (not 'an acknowledgement would be appreciated')."""
    for hit in view.all("ACK_N"):
        if view.has_word(hit.sent, DISPLAY_WORDS) and not any(n.sent == hit.sent for n in view.all("NOT_REQUIRED")):
            return view.span(hit)
    return None


def _this_notice(view: ClauseView) -> str | None:
    """'retain this notice', 'this notice may not be removed or altered'."""
    blocked = {h.sent for h in view.all("TRADEMARK", "ADVICE")}
    for hit in view.all("THIS_NOTICE"):
        if hit.sent in blocked:
            continue
        keep = [h for h in view.all("KEEP_V") if h.sent == hit.sent and abs(h.start - hit.start) <= 10]
        if keep and view.has_word(hit.sent, DUTY_WORDS):
            return view.span(hit, keep[0])
    return None


def _licences_only(rules: list[Rule]) -> list[Rule]:
    """Obligations of a licensee exist in licences (and use policies), not in laws or reports."""
    def gate(fn):
        return lambda view: fn(view) if view.doc_kind == "licence" else None
    for rule in rules:
        rule.fn = gate(rule.fn)
    return rules


RULES = _licences_only([
    Rule("obligation.attribution", "obligation.attribution/licence-copy", _licence_copy, ("LICENSE_COPY",),
         description="give recipients a copy (or the text, or a link) of the licence"),
    any_of("obligation.attribution", "obligation.attribution/attribution-notice", "ATTRIB_NOTICE",
           unless=("TRADEMARK",), description="attribution notice, NOTICE text file, 'Built with', credit"),
    Rule("obligation.attribution", "obligation.attribution/acknowledgement", _ack, ("ACK_N",),
         description="display a required acknowledgement"),
    together("obligation.attribution", "obligation.attribution/keep-notices", ("COPYRIGHT_NOTICE",), ("KEEP_V",),
             unless=("TRADEMARK", "ADVICE"), description="keep (or do not remove) copyright notices"),
    Rule("obligation.attribution", "obligation.attribution/retain-this-notice", _this_notice, ("THIS_NOTICE",),
         description="retain this notice; this notice may not be removed"),
    together("obligation.naming", "obligation.naming/name-prefix", ("NAME",), ("NAME_POS",), unless=("TRADEMARK",),
             description="a model name must begin with / carry a given name"),
    Rule("obligation.share_alike", "obligation.share_alike/same-terms", _share_alike,
         ("SHARE_ALIKE", "PASS_ON", "REQUIRE_V", "UNDER_THIS"),
         description="the same licence or use restrictions must be passed downstream"),
    Rule("obligation.disclose_source", "obligation.disclose_source/source-available", _disclose,
         ("CORR_SOURCE", "SOURCE_CODE"), description="the Corresponding Source must be made available"),
    Rule("obligation.state_changes", "obligation.state_changes/mark-changes", _state_changes, ("STATE_CHANGE",),
         description="modified files or works must say that (and how) they were changed"),
])
