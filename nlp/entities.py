"""Entities of a clause, with normalised values (../shared/gold/README.md "Entity values").

DATE (ISO, YYYY-MM without a day), USER_THRESHOLD (int + unit), MONEY (number + ISO 4217),
PERCENT (number), COMPUTE (operations as a float), ARTICLE_REF (see nlp.rules.references),
LICENSE_REF (SPDX id or the licence's name), DURATION (ISO 8601). Regexes on the clause text,
linear in its length; `start`/`end` are offsets inside ``segment.text``.
"""
from __future__ import annotations

import re

from clausewatch.nlp.model import Entity, Segment
from clausewatch.nlp.rules.licenses import find_licenses
from clausewatch.nlp.rules.numbers import (
    DIGITS,
    NUMBER_WORDS,
    ORDINAL,
    SCALES,
    as_int_if_whole,
    ordinal_to_int,
    parse_number,
    words_to_int,
)
from clausewatch.nlp.rules.references import find_references

MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], start=1)}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December|" \
         r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"

DATE_RE = re.compile(
    rf"\b(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>{_MONTH}),?\s+(?P<y1>(?:19|20)\d\d)\b"
    rf"|\b(?P<m2>{_MONTH})\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y2>(?:19|20)\d\d)\b"
    rf"|\b(?P<m3>{_MONTH}),?\s+(?P<y3>(?:19|20)\d\d)\b"
    r"|\b(?P<iso>(?:19|20)\d\d-[01]\d-[0-3]\d)\b")

_SCALE = r"(?:thousand|million|billion|trillion|mn|bn|[MBK])\b"
USERS_RE = re.compile(
    rf"(?:(?P<num>{DIGITS})\s*(?P<scale>{_SCALE})?|\b(?P<wnum>{NUMBER_WORDS})\s+(?P<wscale>thousand|million|billion))"
    r"\s+(?P<unit>(?:monthly|daily|weekly)\s+active\s+users|"
    r"active\s+users|MAUs?|DAUs?|(?:registered\s+|end\s+)?users)\b", re.I)
USER_UNITS = {"monthly": "monthly_active_users", "mau": "monthly_active_users", "daily": "daily_active_users",
              "dau": "daily_active_users", "weekly": "weekly_active_users", "active": "active_users"}

_CURRENCY_SIGNS = {"€": "EUR", "$": "USD", "£": "GBP", "eur": "EUR", "euro": "EUR", "euros": "EUR",
                   "usd": "USD", "us$": "USD", "dollars": "USD", "dollar": "USD", "gbp": "GBP",
                   "pounds": "GBP", "cny": "CNY", "rmb": "CNY", "yuan": "CNY"}
MONEY_RE = re.compile(
    rf"(?P<cur1>EUR|USD|GBP|CNY|RMB|US\$|€|\$|£)\s?(?P<num1>{DIGITS})(?:\s*(?P<scale1>{_SCALE}))?"
    rf"|\b(?P<num2>{DIGITS})(?:\s*(?P<scale2>{_SCALE}))?\s*(?P<cur2>EUR|euros?|USD|(?:US\s)?dollars?|GBP|"
    r"pounds\s+sterling|CNY|RMB|yuan)\b")
# "7 %", "7 per cent", "seven percent", "fifty percent (50%)" (one entity)
PERCENT_RE = re.compile(rf"(?P<num>\d+(?:[.,]\d+)?)\s?(?:%|per\s?cent\b|percent\b)"
                        rf"|\b(?P<wnum>{NUMBER_WORDS})\s(?:per\s?cent|percent)\b(?:\s*\(\d+(?:[.,]\d+)?\s?%\))?", re.I)

_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
COMPUTE_RE = re.compile(
    r"(?:(?P<mant>\d+(?:\.\d+)?)\s*[x×\*]\s*)?\b10\s*(?:\^|\*\*|<sup>|e\+?|E\+?)\s*(?P<exp>\d{1,2})(?:</sup>)?"
    r"|\b10(?P<sup>[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2})"
    r"|\b(?P<flat>10(?P<fexp>[12]\d))\b"
    r"|\b(?P<sci>\d(?:\.\d+)?)[eE]\+?(?P<sexp>\d{1,2})\b")
# "three times ten to the 25th", "10 to the 26th power", "1.5 x ten to the twenty-fifth": the power of ten is
# found first, its multiplier is read from the words just before it
COMPUTE_WORDS_RE = re.compile(
    rf"\b(?:10|ten)\s+to\s+the\s+(?:power\s+of\s+)?(?P<wexp>{ORDINAL}|\d{{1,2}})(?:\s+power)?\b", re.I)
MULTIPLIER_RE = re.compile(rf"\b(?P<wmant>\d+(?:\.\d+)?|{NUMBER_WORDS})\s+(?:times|x|×|multiplied by)\s+$", re.I)
_TEN_TO = re.compile(r"\b(?:10|[Tt]en|TEN)\s+to\s+the\b")
COMPUTE_CONTEXT_RE = re.compile(
    r"^\W{0,3}(?:\s*(?:integer|or|and|/|,|-|floating|point|\s)+)*\s*(?:floating[- ]point|FLOP|operations?|"
    r"ops\b|OP/s)", re.I)
COMPUTE_BEFORE_RE = re.compile(r"(?:floating[- ]point\s+operations?|FLOPs?|operations)\b[^.;]{0,60}$", re.I)
PER_SECOND_RE = re.compile(r"^[^.;]{0,60}?(?:per\s+second|/s\b|FLOP/s|FLOPS\b)", re.I)

_DURATION_UNITS = {"day": "D", "week": "W", "month": "M", "year": "Y", "hour": "H"}
DURATION_RE = re.compile(
    rf"\b(?P<num>\d+|{NUMBER_WORDS})(?:\s*\((?:\d+)\))?(?:-|\s+)(?:calendar\s+|business\s+|working\s+)?"
    r"(?P<unit>day|week|month|year|hour)s?\b(?![- ](?:old|of\s+age)\b)", re.I)   # "13 years old" is an age


def _date_value(m: re.Match) -> str | None:
    if m.group("iso"):
        return m.group("iso")
    for d, mo, y in (("d1", "m1", "y1"), ("d2", "m2", "y2"), (None, "m3", "y3")):
        if m.group(mo):
            month = MONTHS.get(m.group(mo).lower().rstrip("."))
            if not month:
                return None
            if d is None:
                return f"{m.group(y)}-{month:02d}"
            day = int(m.group(d))
            if not 1 <= day <= 31:
                return None
            return f"{m.group(y)}-{month:02d}-{day:02d}"
    return None


def dates(text: str) -> list[Entity]:
    out = []
    for m in DATE_RE.finditer(text):
        if m.group("m3") and m.group("m3").lower().rstrip(".") == "may" and not text[m.start():m.start() + 1].isupper():
            continue
        value = _date_value(m)
        if value:
            out.append(Entity("DATE", m.group(0), value, m.start(), m.end()))
    return out


def _scaled(num: str, scale: str | None) -> float | None:
    value = parse_number(num)
    if value is None:
        return None
    if scale:
        value *= SCALES.get(scale.lower(), 1)
    return value


def user_thresholds(text: str) -> list[Entity]:
    out = []
    for m in USERS_RE.finditer(text):   # "700 million", "100M", "one hundred million" monthly active users
        value = _scaled(m.group("num") or m.group("wnum"), m.group("scale") or m.group("wscale"))
        if value is None:
            continue
        first = m.group("unit").split()[0].lower().rstrip("s")
        unit = USER_UNITS.get(first, "users")
        out.append(Entity("USER_THRESHOLD", m.group(0), int(value), m.start(), m.end(), unit=unit))
    return out


def money(text: str) -> list[Entity]:
    out = []
    for m in MONEY_RE.finditer(text):
        num = m.group("num1") or m.group("num2")
        scale = m.group("scale1") or m.group("scale2")
        currency = (m.group("cur1") or m.group("cur2")).lower()
        currency = _CURRENCY_SIGNS.get(currency.split()[-1] if currency.startswith("us ") else currency,
                                       currency.upper())
        if currency in ("POUNDS STERLING",):
            currency = "GBP"
        value = _scaled(num, scale)
        if value is None:
            continue
        out.append(Entity("MONEY", m.group(0).strip(), as_int_if_whole(value), m.start(), m.end(),
                          currency=currency))
    return out


def percents(text: str) -> list[Entity]:
    out = []
    for m in PERCENT_RE.finditer(text):   # "7 %", "7 per cent", "seven percent"
        value = parse_number(m.group("num") or m.group("wnum"))
        if value is not None:
            out.append(Entity("PERCENT", m.group(0), as_int_if_whole(value), m.start(), m.end()))
    return out


def compute_candidate(text: str) -> bool:
    """Cheap test: can ``text`` hold a COMPUTE entity?"""
    return "10" in text or "ten to the" in text or "Ten to the" in text or "TEN TO THE" in text


def compute(text: str) -> list[Entity]:
    out = _compute_words(text) if "to the" in text and _TEN_TO.search(text) else []
    for m in COMPUTE_RE.finditer(text):
        after = text[m.end():m.end() + 80]
        if m.group("exp"):
            exp, mant = int(m.group("exp")), float(m.group("mant") or 1)
        elif m.group("sup"):
            exp, mant = int(m.group("sup").translate(_SUPERSCRIPT)), 1.0
        elif m.group("flat"):
            exp, mant = int(m.group("fexp")), 1.0   # "1025 FLOPs": a flattened superscript
        else:
            exp, mant = int(m.group("sexp")), float(m.group("sci"))
        context_after = COMPUTE_CONTEXT_RE.search(after)
        if exp < 9 or not (context_after or COMPUTE_BEFORE_RE.search(text[max(0, m.start() - 100):m.start()])):
            continue
        unit = "operations_per_second" if PER_SECOND_RE.search(after) else None
        end = m.end() + (context_after.end() if context_after else 0)
        value = float(f"{mant}e{exp}")
        if any(e.start <= m.start() < e.end for e in out):
            continue
        out.append(Entity("COMPUTE", text[m.start():end], value, m.start(), end, unit=unit))
    return out


def _compute_words(text: str) -> list[Entity]:
    """A power of ten written in words: 'three times ten to the 25th operations' -> 3e25."""
    out = []
    for m in COMPUTE_WORDS_RE.finditer(text):
        exp = ordinal_to_int(m.group("wexp")) if not m.group("wexp").isdigit() else int(m.group("wexp"))
        before = MULTIPLIER_RE.search(text[max(0, m.start() - 40):m.start()])
        raw = before.group("wmant") if before else None
        start = m.start() - (len(before.group(0)) if before else 0)
        mant = 1.0 if raw is None else (float(raw) if raw[0].isdigit() else float(words_to_int(raw) or 0))
        after = text[m.end():m.end() + 80]
        context_after = COMPUTE_CONTEXT_RE.search(after)
        if not exp or exp < 9 or not mant or not (
                context_after or COMPUTE_BEFORE_RE.search(text[max(0, m.start() - 100):m.start()])):
            continue
        unit = "operations_per_second" if PER_SECOND_RE.search(after) else None
        end = m.end() + (context_after.end() if context_after else 0)
        out.append(Entity("COMPUTE", text[start:end], float(f"{mant}e{exp}"), start, end, unit=unit))
    return out


def durations(text: str) -> list[Entity]:
    out = []
    for m in DURATION_RE.finditer(text):
        raw = m.group("num")
        count = int(raw) if raw.isdigit() else words_to_int(raw)
        if not count:
            continue
        unit = _DURATION_UNITS[m.group("unit").lower()]
        value = f"PT{count}H" if unit == "H" else f"P{count}{unit}"
        out.append(Entity("DURATION", m.group(0), value, m.start(), m.end()))
    return out


def references(text: str, segment: Segment) -> list[Entity]:
    return [Entity("ARTICLE_REF", r.text, r.value, r.start, r.end) for r in find_references(text, segment)]


def licenses(text: str) -> list[Entity]:
    return [Entity("LICENSE_REF", text[a:b], value, a, b) for value, a, b in find_licenses(text)]


_DIGIT_RE = re.compile(r"\d")
_REF_WORDS = ("article", "section", "sec.", "paragraph", "point", "annex", "chapter", "title", "part",
              "attachment", "appendix", "exhibit", "schedule", "clause", "§", "division")
_LICENSE_WORDS = ("licen", "terms of use", "gpl", "creative commons", "cc-by", "cc by", "cc0", "unlicense", "apache")
_MONEY_WORDS = ("eur", "usd", "$", "€", "£", "dollar", "gbp", "cny", "rmb", "yuan", "pound")
_DURATION_WORDS = ("day", "week", "month", "year", "hour")
_SCALE_WORDS = ("thousand", "million", "billion")


def find_entities(segment: Segment, segments: list[Segment]) -> list[Entity]:
    """All entities of ``segment`` (``segments`` is the whole document, for context).

    Each finder runs only when a cheap substring test says its entity can be there: most clauses
    hold no entity, and the regexes are the costly part."""
    text = segment.text
    lower = text.lower()
    found: list[Entity] = []
    digits = _DIGIT_RE.search(text) is not None
    if digits:
        found += dates(text)
        if any(w in lower for w in _MONEY_WORDS):
            found += money(text)
    if ("user" in lower or "mau" in lower or "dau" in lower) and (digits or any(w in lower for w in _SCALE_WORDS)):
        found += user_thresholds(text)      # "700 million", "one hundred million" monthly active users
    if "%" in text or "cent" in lower:
        found += percents(text)             # "7 %", "seven percent"
    if compute_candidate(text):
        found += compute(text)
    if any(w in lower for w in _DURATION_WORDS):
        found += durations(text)
    if any(w in lower for w in _REF_WORDS):
        found += references(text, segment)
    if any(w in lower for w in _LICENSE_WORDS):
        found += licenses(text)
    return _drop_overlaps(found) if len(found) > 1 else found


def _drop_overlaps(entities: list[Entity]) -> list[Entity]:
    """Numbers read twice (a year inside a date read as a duration, a MONEY inside a USER_THRESHOLD...)."""
    priority = {"DATE": 0, "COMPUTE": 1, "USER_THRESHOLD": 2, "MONEY": 3, "PERCENT": 4, "DURATION": 5,
                "ARTICLE_REF": 6, "LICENSE_REF": 7}
    kept: list[Entity] = []
    for ent in sorted(entities, key=lambda e: (priority[e.type], e.start)):
        if ent.type in ("ARTICLE_REF", "LICENSE_REF") or not any(
                k.type not in ("ARTICLE_REF", "LICENSE_REF") and ent.start < k.end and k.start < ent.end
                for k in kept):
            kept.append(ent)
    kept.sort(key=lambda e: (e.start, e.end))
    return kept
