"""Dates and time stamps: written dates in every format as one token of their value, relative dates of a
page ("Updated 5 days ago"), the dates of "Last updated" lines. Pure: no I/O."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from clausewatch.changes.sentinels import DATE_TOKEN, RELDATE

# "Updated 5 days ago", "last edited 3 weeks ago", "Posted yesterday", "4 min read": when the page was looked
# at, not what it says. Only as a time stamp: after an update word, or as (nearly) the whole line, so a
# retention period ("data collected more than 30 days ago") stays a term.
_REL_NUM = r"(?:\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a\s+few|few|several)"
_REL_UNIT = r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|wks?|months?|mos?|years?|yrs?)"
_RELATIVE = re.compile(rf"\b(?:(?:about|over|almost|nearly|around|less\s+than)\s+)?{_REL_NUM}\s+{_REL_UNIT}\s+ago\b"
                       r"|\bjust\s+now\b|\bmoments?\s+ago\b|\b(?:today|yesterday)\b"
                       r"|\b\d{1,3}\s*(?:-\s*)?min(?:ute)?s?\s+read\b", re.I)
_STAMP_WORDS = (r"(?:updated|edited|modified|revised|changed|posted|published|reviewed|created|saved|"
                r"refreshed|fetched|retrieved|accessed)")
_STAMP_BEFORE = re.compile(rf"\b{_STAMP_WORDS}\b\W{{0,3}}(?:(?:on|at|about)\W+)?$", re.I)
_STAMP_LINE_WORDS = 8


def mask_relative_dates(text: str) -> str:
    lowered = text.lower()
    if not any(w in lowered for w in ("ago", "now", "today", "yesterday", "read")):
        return text
    short = len(text.split()) <= _STAMP_LINE_WORDS

    def repl(m: re.Match) -> str:
        word = m.group(0).lower()
        if word.endswith("read") or word.endswith("ago") or word.endswith("now"):
            stamp = short or bool(_STAMP_BEFORE.search(text[max(0, m.start() - 40):m.start()]))
        else:   # today / yesterday only right after an update word
            stamp = bool(_STAMP_BEFORE.search(text[max(0, m.start() - 40):m.start()]))
        return f" {RELDATE} " if stamp else m.group(0)

    return _RELATIVE.sub(repl, text)


# ------------------------------------------------------------------ dates and the document's own release

_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], 1)}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAY = r"(?:(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\.?,?\s+)?"
DATE_PATTERN = re.compile(
    rf"(?P<a>\b{_WEEKDAY}(?P<am>{_MONTH_RE})\.?\s+(?P<ad>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<ay>\d{{4}}))"
    rf"|(?P<b>\b{_WEEKDAY}(?:the\s+)?(?P<bd>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<bm>{_MONTH_RE})\.?,?\s+"
    r"(?P<by>\d{4}))"
    r"|(?P<c>\b(?P<cy>\d{4})(?P<cs>[-/.])(?P<cm>\d{1,2})(?P=cs)(?P<cd>\d{1,2})(?![\d.]))"
    r"|(?P<d>\b(?P<dd>\d{1,2})(?P<ds>[./-])(?P<dm>\d{1,2})(?P=ds)(?P<dy>\d{4})(?!\d))"
    rf"|(?P<e>\b(?P<em>{_MONTH_RE})\.?,?\s+(?P<ey>\d{{4}}))", re.I)


def _iso(y: int, m: int, d: int) -> str | None:
    try:
        return dt.date(y, m, d).isoformat()
    except ValueError:
        return None


def _date_values(m: re.Match) -> list[str]:
    """The ISO readings of a date match: one, or two for a numeric date both of whose first numbers could be
    the month (08/09/2025: 8 September or August 9), none for an impossible date."""
    if m.group("a"):
        values = [_iso(int(m["ay"]), _MONTHS[m["am"].lower()], int(m["ad"]))]
    elif m.group("b"):
        values = [_iso(int(m["by"]), _MONTHS[m["bm"].lower()], int(m["bd"]))]
    elif m.group("c"):
        values = [_iso(int(m["cy"]), int(m["cm"]), int(m["cd"]))]
    elif m.group("d"):
        first, second, year = int(m["dd"]), int(m["dm"]), int(m["dy"])
        values = [_iso(year, second, first), _iso(year, first, second)]   # day first, then month first
    else:
        return [f"{int(m['ey']):04d}-{_MONTHS[m['em'].lower()]:02d}"]
    return sorted({v for v in values if v})


def _date_value(m: re.Match) -> str | None:
    values = _date_values(m)
    return values[0] if values else None


_YEARISH = re.compile(r"\d{4}")


def find_dates(text: str) -> list[tuple[int, int, str]]:
    """(start, end, ISO value) of every date written in ``text``."""
    out: list[tuple[int, int, str]] = []
    if not _YEARISH.search(text):   # every date pattern has a four-digit year
        return out
    for m in DATE_PATTERN.finditer(text):
        for value in _date_values(m):
            out.append((m.start(), m.end(), value))
    return out


def canonical_dates(text: str) -> str:
    """Every written date as one token of its value: "August 28, 2025", "28 August 2025", "2025-08-28" and
    "28/08/2025" are the same token; "08/09/2025" keeps both readings."""
    if not _YEARISH.search(text):
        return text

    def repl(m: re.Match) -> str:
        values = _date_values(m)
        return f" {DATE_TOKEN}{'|'.join(values)}\ue001 " if values else m.group(0)

    return DATE_PATTERN.sub(repl, text)


DATE_LINE = re.compile(r"(?i)\b(?:updated|modified|revised|effective|version|release[sd]?|dated?|published)\b")



def footer_dates(texts: Iterable[str]) -> set[str]:
    """Dates of "Last updated: ..." lines at the end of a document: its release dates too. A line, not a
    sentence that mentions a date ("from the date we tell you"): short, or saying so in its first words."""
    out: set[str] = set()
    for text in texts:
        words = text.split()
        if DATE_LINE.search(text) and (len(words) <= 12 or DATE_LINE.search(" ".join(words[:4]))):
            out.update(value for _, _, value in find_dates(text))
    return out
