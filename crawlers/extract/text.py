"""Plain text: decode whatever bytes arrive, keep the author's line breaks."""
from __future__ import annotations

import codecs
import re

from clausewatch.crawlers.extract.base import Extracted, ExtractionError
from clausewatch.crawlers.extract.normalize import clean_text, control_ratio

_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
MAX_CONTROL_RATIO = 0.10


def charset_of(content_type: str | None) -> str | None:
    """The charset a Content-Type header names, if Python knows it."""
    match = _CHARSET.search(content_type or "")
    if not match:
        return None
    try:
        return codecs.lookup(match.group(1)).name
    except LookupError:
        return None


def decode(body: bytes, content_type: str | None = None, declared: str | None = None) -> tuple[str, list[str]]:
    """Decode ``body``: BOM, then UTF-8, then the Content-Type charset, then the charset the document
    declares itself (an HTML ``<meta>``), then cp1252; never raises."""
    warnings: list[str] = []
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                       (codecs.BOM_UTF16_BE, "utf-16-be")):
        if body.startswith(bom):
            return body[len(bom):].decode(codec, errors="replace"), warnings
    try:
        return body.decode("utf-8"), warnings
    except UnicodeDecodeError:
        pass
    for charset in (charset_of(content_type), charset_of(f"charset={declared}") if declared else None):
        if charset and charset not in ("utf-8", "utf_8"):
            try:
                return body.decode(charset), warnings
            except UnicodeDecodeError:
                warnings.append(f"body is not valid {charset} as declared")
    try:
        text = body.decode("cp1252")
        warnings.append("body is not UTF-8; decoded as Windows-1252")
        return text, warnings
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 maps them to C1 controls, which we then drop.
        warnings.append("body is not UTF-8; decoded as Latin-1")
        return body.decode("latin-1"), warnings


def check_not_binary(text: str, what: str = "text") -> None:
    sample = text[:200_000]
    if "\x00" in sample[:4096] or control_ratio(sample) > MAX_CONTROL_RATIO:
        raise ExtractionError(f"body declared {what} looks binary (too many control characters)")


def first_line_title(text: str) -> str | None:
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= 200 else None
    return None


def extract_text(body: bytes, content_type: str | None = None) -> Extracted:
    text, warnings = decode(body, content_type)
    check_not_binary(text)
    text = clean_text(text)
    if not text.strip():
        raise ExtractionError("no text: the document is empty")
    return Extracted(text=text, title=first_line_title(text), warnings=warnings)
