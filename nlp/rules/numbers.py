"""Number parsing shared by the entity finders: digits with thousand separators, scale words and
number words ("four years", "twenty-four months")."""
from __future__ import annotations

import re

UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
        "ninety": 90}
SCALES = {"thousand": 1_000, "k": 1_000, "million": 1_000_000, "m": 1_000_000, "mn": 1_000_000,
          "billion": 1_000_000_000, "bn": 1_000_000_000, "b": 1_000_000_000,
          "trillion": 1_000_000_000_000}

_TENS_ALT = "|".join(TENS)
_UNITS_ALT = "|".join(sorted(UNITS, key=len, reverse=True))
# "four", "twenty-four", "twenty four", "ninety", "a hundred", "one hundred"
NUMBER_WORDS = (rf"(?:(?:{_TENS_ALT})(?:[- ](?:{_UNITS_ALT}))?|(?:{_UNITS_ALT})|a|an)"
                rf"(?:\s+hundred(?:\s+and\s+(?:{_UNITS_ALT}|{_TENS_ALT}))?)?")
# 15 000 000 / 15,000,000 / 15.000.000 / 1.5 / 700
DIGITS = r"\d{1,3}(?:(?:[ \u202f,]\d{3})+|(?:\.\d{3}){2,})(?:\.\d+)?(?!\d)|\d+(?:[.,]\d+)?"

_ORDINAL_UNITS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
                  "eighth": 8, "ninth": 9}
_ORDINAL_TEENS = {"tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
                  "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20,
                  "thirtieth": 30, "fortieth": 40}
# "25th", "twenty-fifth", "twenty fifth", "thirtieth"
ORDINAL = (rf"(?:\d{{1,2}}(?:st|nd|rd|th)|(?:twenty|thirty)[- ](?:{'|'.join(_ORDINAL_UNITS)})|"
           rf"{'|'.join(sorted([*_ORDINAL_TEENS, *_ORDINAL_UNITS], key=len, reverse=True))})")


def ordinal_to_int(text: str) -> int | None:
    """'25th' -> 25, 'twenty-fifth' -> 25, 'twentieth' -> 20."""
    text = text.lower().strip()
    if text[:1].isdigit():
        return int(re.match(r"\d+", text).group(0))
    if text in _ORDINAL_TEENS:
        return _ORDINAL_TEENS[text]
    if text in _ORDINAL_UNITS:
        return _ORDINAL_UNITS[text]
    head, _, tail = text.replace(" ", "-").partition("-")
    if head in TENS and tail in _ORDINAL_UNITS:
        return TENS[head] + _ORDINAL_UNITS[tail]
    return None


_HUNDRED = re.compile(r"\s+hundred(?:\s+and\s+(.+))?$")


def words_to_int(text: str) -> int | None:
    """'four' -> 4, 'twenty-four' -> 24, 'one hundred and twenty' -> 120; None if not a number word."""
    text = text.lower().strip()
    if text in ("a", "an"):
        return 1
    hundred = _HUNDRED.search(text)
    if hundred:
        head = words_to_int(text[:hundred.start()]) or 1
        tail = words_to_int(hundred.group(1)) if hundred.group(1) else 0
        return head * 100 + (tail or 0)
    parts = re.split(r"[- ]+", text)
    total = 0
    for part in parts:
        if part in UNITS:
            total += UNITS[part]
        elif part in TENS:
            total += TENS[part]
        else:
            return None
    return total


def parse_number(text: str) -> float | None:
    """'15 000 000' -> 15000000.0, '1,5' -> 1.5, '700' -> 700.0, '1.000.000' -> 1000000.0."""
    raw = text.strip().replace("\u202f", " ")
    if not raw:
        return None
    if re.fullmatch(r"\d{1,3}(?:[ ,]\d{3})+(?:\.\d+)?", raw):
        return float(re.sub(r"[ ,]", "", raw))
    if re.fullmatch(r"\d{1,3}(?:\.\d{3}){2,}", raw):
        return float(raw.replace(".", ""))
    if re.fullmatch(r"\d+,\d{1,2}", raw):  # decimal comma: "2,5 %"
        return float(raw.replace(",", "."))
    try:
        return float(raw.replace(",", ""))
    except ValueError:
        words = words_to_int(raw)
        return float(words) if words is not None else None


def as_int_if_whole(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
