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
    "LICENSE_COPY": ["copy of this license", "copy of this licence", "copy of this agreement", "copy of the license",
                     "copy of the licence", "copy of the agreement", "copy of these terms",
                     "copy of this license agreement", "copies of this license", "copy of the gnu",
                     "text of this license", "text of this public license", "uri or hyperlink to",
                     "hyperlink to this license", "hyperlink to this public license"],
    "GIVE": [*verbs("give", "provide", "include", "accompany", "deliver", "ship", "supply", "attach"),
             "together with", "along with", "accompanied by"],
    "OBTAIN": ["obtain", "may obtain", "can obtain", "available at"],
    "ATTRIB_NOTICE": [*combos("notice", ["", *QUOTES], " text file"),
                      *combos(QUOTES, ["built", "powered", "made", "created"], " ", ["with", "by", "using", "on"]),
                      "attribution notice", "attribution notices", "appropriate credit", "give credit",
                      "provide attribution", "give attribution", "attribution statement", "attribution text",
                      "credit the", "attribution requirements"],
    "COPYRIGHT_NOTICE": ["copyright notice", "copyright notices", "proprietary notices", "permission notice",
                         "copyright statement", "legal notices", "notices of copyright"],
    "ADVICE": ["recommend", "we also recommend", "to apply the"],
    "THIS_NOTICE": ["this notice", "the above notice", "all notices", "such notices", "the notices"],
    "RETAIN_V": [*verbs("retain", "keep", "preserve", "reproduce")],
    "KEEP_V": [*verbs("retain", "keep", "preserve", "reproduce", "alter", "remove", "obscure", "include"),
               "intact"],
    "NAME": ["name", "names", "model name", "prefix", "named", "naming"],
    "NAME_POS": ["at the beginning of", "begin with", "begins with", "start with", "starts with", "prefix",
                 "prefixed", "must not be called", "rename", "renamed", "must not be named"],
    "SHARE_ALIKE": ["same license", "same licence", "same terms", "same use-based restrictions",
                    "same restrictions", "sharealike", "share-alike", "share alike", "license the entire work",
                    "as an enforceable provision", "require all of your users", "pass on", "flow down",
                    "subject to the same", "no less restrictive", "at least as restrictive",
                    "under the same license", "under the same licence", "under the terms of this license to",
                    "same or a compatible license", "compatible license", "under this license to anyone"],
    "CORR_SOURCE": ["corresponding source", "corresponding machine-readable source code",
                    "complete source code", "interacting with it remotely", "remote network interaction",
                    "source code form"],
    "SOURCE_CODE": ["source code"],
    "SRC_AVAIL": ["make available", "made available", "make it available", "makes available", "disclose",
                  "publish", "accompanied by", "accompany", "provide", "offer", "available"],
    "MUST": ["must", "shall", "required to", "agree to", "obliged to", "have to"],
    "STATE_CHANGE": ["stating that you changed", "stating that you modified",
                     "modified files", "indicate if changes were made", "indicate that changes were made",
                     "indicate if you modified", "state the changes", "changes were made", "date of any change",
                     "notices stating that you", "stating that you have modified", "mark it as modified", "marked as modified", "marked as changed"],
}



def _disclose(view: ClauseView) -> str | None:
    hit = view.first("CORR_SOURCE")
    if hit:
        return view.span(hit)
    for src in view.all("SOURCE_CODE"):
        same = [h for h in view.all("SRC_AVAIL", "MUST") if h.sent == src.sent]
        avail = [h for h in same if h.label == "SRC_AVAIL"]
        if avail and any(h.label == "MUST" for h in same):
            return view.span(src, avail[0])
    return None


RULES = [
    together("obligation.attribution", "obligation.attribution/licence-copy", ("LICENSE_COPY",), ("GIVE",),
             unless=("OBTAIN",), description="give recipients a copy of the licence"),
    any_of("obligation.attribution", "obligation.attribution/attribution-notice", "ATTRIB_NOTICE",
           unless=("TRADEMARK",), description="attribution notice, NOTICE text file, 'Built with', credit"),
    together("obligation.attribution", "obligation.attribution/keep-notices", ("COPYRIGHT_NOTICE",), ("KEEP_V",),
             unless=("TRADEMARK", "ADVICE"), description="keep (or do not remove) copyright notices"),
    together("obligation.attribution", "obligation.attribution/retain-this-notice", ("RETAIN_V",), ("THIS_NOTICE",),
             ordered=True, unless=("TRADEMARK", "ADVICE"), description="retain this notice in redistributions"),
    together("obligation.naming", "obligation.naming/name-prefix", ("NAME",), ("NAME_POS",), unless=("TRADEMARK",),
             description="a model name must begin with / carry a given name"),
    any_of("obligation.share_alike", "obligation.share_alike/same-terms", "SHARE_ALIKE",
           description="the same licence or use restrictions must be passed downstream"),
    Rule("obligation.disclose_source", "obligation.disclose_source/source-available", _disclose,
         ("CORR_SOURCE", "SOURCE_CODE"), description="the Corresponding Source must be made available"),
    any_of("obligation.state_changes", "obligation.state_changes/mark-changes", "STATE_CHANGE",
           description="modified files must carry notices of the change"),
]
