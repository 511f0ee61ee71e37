"""Copyright notice lines and a template's generic holder: who holds the copy is not a term of the licence.
Pure: no I/O."""
from __future__ import annotations

import re

from clausewatch.changes.sentinels import HOLDER, PLACEHOLDER

_WORD = re.compile(r"[^\W\d_]+")

# A copyright notice line: "Copyright (c) 2023 DeepSeek", "© 2024 Acme, Inc. All rights reserved.", several in
# a row. The holder is who owns the copy, not a term of the licence: copies of one template differ there.
_NOTICE = (r"(?:copyright|\(c\)|©)(?:\s*(?:\(c\)|©|copyright))*\s*"
           r"(?:\d{4}(?:\s*[-,/]\s*(?:\d{4}|present))*\s*,?\s*)?"
           r"(?P<holder>[^;\n]{1,120}?)\s*[.,]?\s*(?:all\s+rights\s+reserved\.?\s*)?")
_NOTICE_RE = re.compile(_NOTICE, re.I)
_NOTICES = re.compile(rf"^\s*(?:{_NOTICE.replace('(?P<holder>', '(?:')})+$", re.I)
_NOTICE_START = re.compile(r"(?:copyright|©|\(c\))(?:\s*(?:\(c\)|©|copyright))*", re.I)
_NOTICE_WORDS = {"copyright", "c", "all", "rights", "reserved", "present"}
_NOT_HOLDER = {"may", "must", "shall", "not", "will", "licensed", "license", "licence", "licenses", "permission",
               "permitted", "granted", "grant", "subject", "terms", "under", "use", "provided", "notice", "notices",
               "included", "retain", "above", "this", "following", "conditions", "software", "all"}


def is_copyright_notice(text: str) -> bool:
    """Whether ``text`` is only copyright notices (holder and years), not a clause about copyright."""
    if len(text.split()) > 40 or not _NOTICES.match(text):
        return False
    notices = len(_NOTICE_START.findall(text))
    words = [w for w in _WORD.findall(text.lower()) if w not in _NOTICE_WORDS]
    return not _NOT_HOLDER.intersection(words) and len(words) <= 12 * max(notices, 1)


def mask_copyright(text: str) -> str:
    """A copyright notice line as ``copyright HOLDER``: who holds it and since when are not licence terms."""
    if "opyright" not in text and "©" not in text and "(c)" not in text.lower():
        return text
    if not is_copyright_notice(text):
        return text
    return f"copyright {HOLDER}"


# In a copy of a template licence (MIT, BSD, ISC), the template's generic holder ("the authors or copyright
# holders", "the copyright holder") is a placeholder the copy may fill with a name.
_GENERIC_HOLDER = (r"(?:the\s+)?(?:authors?|copyright\s+(?:holders?|owners?))")
_TEMPLATE_HOLDERS = re.compile(rf"\b{_GENERIC_HOLDER}(?:\s+(?:and/or|or|and)\s+{_GENERIC_HOLDER})*\b", re.I)


def mask_template_holders(text: str) -> str:
    return _TEMPLATE_HOLDERS.sub(f" {PLACEHOLDER} ", text)
