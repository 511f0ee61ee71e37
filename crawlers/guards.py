"""Guards against recording a non-document as a change of the document.

A licence page replaced by a maintenance, captcha or login page must be held for review, not stored as
the licence's new version. Two signals: the text shrank drastically and shares little with the previous
version, or it reads like an interstitial page.
"""
from __future__ import annotations

import re

INTERSTITIAL = re.compile(
    r"\b(captcha|are you a robot|verify you are (a )?human|access denied|checking your browser|"
    r"under maintenance|temporarily unavailable|scheduled maintenance|sign in to continue|log in to continue|"
    r"please (log|sign) in|enable javascript and cookies|service unavailable|too many requests)\b",
    re.IGNORECASE,
)
SHRINK_RATIO = 0.3


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]{3,}", text.lower()))


def replacement_reason(previous: str | None, new: str) -> str | None:
    """Why ``new`` looks like a replacement page rather than a version of ``previous`` (None if it does not)."""
    if previous is None:
        if len(new) < 2000 and INTERSTITIAL.search(new):
            return "looks like an interstitial page (captcha, login or maintenance), not a document"
        return None
    if len(new) >= SHRINK_RATIO * len(previous):
        return None
    old_words, new_words = _words(previous), _words(new)
    shared = len(old_words & new_words) / max(1, len(new_words))
    if INTERSTITIAL.search(new):
        return f"shrank from {len(previous):,} to {len(new):,} characters and reads like an interstitial page"
    if shared < 0.5:
        return f"shrank from {len(previous):,} to {len(new):,} characters and shares little with the last version"
    return None
