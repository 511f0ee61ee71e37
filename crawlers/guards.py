"""Guards against recording a non-document as a document, or as a change of the document.

* :func:`content_refusal`: what the server sent cannot be the declared document (an image, an archive,
  an executable ...), whatever the extractor would make of it.
* :func:`replacement_reason`: a licence page replaced by a maintenance, captcha, login or "not found"
  page must be held for review (``held_versions``), not stored as the licence's new version. Signals:
  the text shrank drastically and shares little with the previous version, or it is short and reads
  like an interstitial page while sharing little with the previous version.
"""
from __future__ import annotations

import re

INTERSTITIAL = re.compile(
    r"\b(captcha|are you a (robot|human)|verify (that )?you are (a )?human|access denied|checking your browser|"
    r"under maintenance|down for maintenance|temporarily unavailable|scheduled maintenance|we.ll be back|"
    r"sign in to continue|log ?in to continue|please (log|sign) ?in|sign in to your account|forgot (your )?password|"
    r"enable javascript and cookies|service unavailable|too many requests|rate limit exceeded|just a moment|"
    r"attention required|request (was )?blocked|page not found|404 not found|"
    r"(page|document) (could not|cannot|can.t) be found|(page|document) (does not|doesn.t) exist)\b",
    re.IGNORECASE,
)
INTERSTITIAL_MAX_CHARS = 3000   # an interstitial page is short; a licence that mentions "captcha" is not
SHRINK_RATIO = 0.3              # the new text is less than 30% of the last version ...
SHRINK_SHARED = 0.5             # ... and fewer than half of its words are in the last version
INTERSTITIAL_SHARED = 0.8       # a short page with interstitial words, mostly words the last version lacked

# magic numbers of bodies that are never a licence or policy text (a PDF is checked by the extractor)
_BINARY_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF87a": "a GIF image",
    b"GIF89a": "a GIF image", b"RIFF": "a RIFF media file", b"PK\x03\x04": "a ZIP archive",
    b"\x1f\x8b": "gzip-compressed data", b"\x7fELF": "an executable", b"MZ": "an executable",
    b"\x00\x00\x01\x00": "an icon", b"wOFF": "a web font", b"wOF2": "a web font", b"7z\xbc\xaf": "a 7z archive",
}
_NOT_DOCUMENT_TYPES = ("image/", "audio/", "video/", "font/", "application/zip", "application/gzip",
                       "application/x-gzip", "application/x-tar", "application/x-7z", "application/x-rar",
                       "application/wasm", "application/x-executable", "application/java-archive")


def content_refusal(fmt: str, content_type: str | None, body: bytes) -> str | None:
    """Why ``body`` (served as ``content_type``) cannot be the ``fmt`` document declared (None if it may be)."""
    ctype = (content_type or "").split(";")[0].strip().lower()
    if ctype.startswith(_NOT_DOCUMENT_TYPES):
        return f"the server sent {ctype}, not a document (the source is declared {fmt})"
    if fmt == "pdf" and body.lstrip()[:5] == b"%PDF-":
        return None
    head = body[:16]
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic) and (magic != b"MZ" or b"\x00" in body[:512]):
            return f"the body is {what}, not a {fmt} document"
    return None


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]{3,}", text.lower()))


def shared_ratio(previous: str, new: str) -> float:
    """Share of the distinct words (3+ letters) of ``new`` that also occur in ``previous``."""
    new_words = _words(new)
    return len(new_words & _words(previous)) / max(1, len(new_words))


def replacement_reason(previous: str | None, new: str) -> str | None:
    """Why ``new`` looks like a replacement page rather than a version of ``previous`` (None if it does not)."""
    interstitial = len(new) < INTERSTITIAL_MAX_CHARS and INTERSTITIAL.search(new)
    if previous is None:
        if interstitial:
            return (f"looks like an interstitial page ({interstitial.group(0)!r}: captcha, login, maintenance "
                    "or not found), not a document")
        return None
    shrank = len(new) < SHRINK_RATIO * len(previous)
    if not shrank and not interstitial:
        return None
    shared = shared_ratio(previous, new)
    if interstitial and (shrank or shared < INTERSTITIAL_SHARED):
        return (f"{len(previous):,} -> {len(new):,} characters, reads like an interstitial page "
                f"({interstitial.group(0)!r}) and shares {shared:.0%} of its words with the last version")
    if shrank and shared < SHRINK_SHARED:
        return (f"shrank from {len(previous):,} to {len(new):,} characters and shares only {shared:.0%} of its "
                "words with the last version")
    return None
