"""Numbers and amounts written another way: "thirty (30) days" = "30 days", "USD 1,000,000" = "$1,000,000" =
"1 million US dollars", "700,000,000" = "700 million". Each becomes one token of its value, so a clause
whose only difference is how a number is written is cosmetic (``number_format``) and a different value
stays a difference. Pure: no I/O.
"""
from __future__ import annotations

import re

from clausewatch.changes.sentinels import AMOUNT_TOKEN, NUMBER_TOKEN

_UNITS = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
          "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
          "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_SCALES = {"thousand": 10 ** 3, "million": 10 ** 6, "billion": 10 ** 9, "trillion": 10 ** 12,
           "mn": 10 ** 6, "m": 10 ** 6, "bn": 10 ** 9, "b": 10 ** 9}
_UNIT_ALT = "|".join(sorted(_UNITS, key=len, reverse=True))
_TENS_ALT = "|".join(_TENS)
_WORD = (rf"(?:(?:{_TENS_ALT})(?:[- ](?:{_UNIT_ALT}))?|{_UNIT_ALT})"
         rf"(?:\s+hundred(?:\s+(?:and\s+)?(?:{_TENS_ALT}|{_UNIT_ALT})(?:[- ](?:{_UNIT_ALT}))?)?)?")
_DIGITS = r"\d{1,3}(?:(?:,\d{3})+|(?:[ \u00a0\u202f]\d{3})+)(?:\.\d+)?(?!\d)|\d+(?:\.\d+)?"


def _scale(group: str) -> str:
    """An optional scale word after a number, captured as ``group``: "million", "bn", "M"."""
    return rf"(?:\s*(?P<{group}>{'|'.join(sorted(_SCALES, key=len, reverse=True))})\b)?"


# "thirty (30)", "30 (thirty)": the same number twice
_TWICE = re.compile(rf"\b(?P<w1>{_WORD})\s*\((?P<d1>\d+)\)|\b(?P<d2>\d+)\s*\((?P<w2>{_WORD})\)", re.I)
_CURRENCY = {"usd": "usd", "us$": "usd", "$": "usd", "us dollars": "usd", "dollars": "usd", "dollar": "usd",
             "eur": "eur", "€": "eur", "euro": "eur", "euros": "eur", "gbp": "gbp", "£": "gbp",
             "pounds sterling": "gbp"}
_AMOUNT = re.compile(
    rf"(?P<cur1>US\$|USD|EUR|GBP|\$|€|£)\s?(?P<n1>{_DIGITS}){_scale('s1')}"
    rf"|\b(?P<n2>{_DIGITS}){_scale('s2')}\s*(?P<cur2>USD|EUR|GBP|US\s+dollars|dollars?|euros?|"
    r"pounds\s+sterling)\b", re.I)
_NUMBER = re.compile(rf"(?<![\w.,])(?P<n>{_DIGITS}){_scale('scale')}(?![\w])", re.I)


def _words_value(text: str) -> int | None:
    text = text.lower()
    total, parts = 0, re.split(r"[- ]+|\s+and\s+", text)
    for part in parts:
        if part in _UNITS:
            total += _UNITS[part]
        elif part in _TENS:
            total += _TENS[part]
        elif part == "hundred":
            total = (total or 1) * 100
        elif part:
            return None
    return total


def _value(number: str, scale: str | None) -> str | None:
    raw = re.sub(r"[,\s\u00a0\u202f]", "", number)
    try:
        value = float(raw)
    except ValueError:
        return None
    if scale:
        value *= _SCALES[scale.lower()]
    return str(int(value)) if float(value).is_integer() else repr(value).replace(".", "p")


def canonical_numbers(text: str) -> str:
    """Every amount and every number of several digits or with a scale word as one token of its value."""
    if not any(ch.isdigit() for ch in text):
        return text

    def twice(m: re.Match) -> str:
        words, digits = (m["w1"], m["d1"]) if m["w1"] else (m["w2"], m["d2"])
        return digits if _words_value(words) == int(digits) else m.group(0)

    text = _TWICE.sub(twice, text)

    def amount(m: re.Match) -> str:
        cur = (m["cur1"] or m["cur2"]).lower()
        value = _value(m["n1"] or m["n2"], m["s1"] or m["s2"])
        code = _CURRENCY.get(" ".join(cur.split()))
        return f" {AMOUNT_TOKEN}{code}{value}\ue001 " if value and code else m.group(0)

    text = _AMOUNT.sub(amount, text)

    def number(m: re.Match) -> str:
        plain = m["n"]
        if not m["scale"] and not re.search(r"[,\s\u00a0\u202f]", plain) and (
                "." in plain or len(plain) < 4 or 1900 <= int(plain) <= 2099):
            return m.group(0)             # "30", "4.2", "2025" are left as written; "1000000" = "1,000,000"
        value = _value(m["n"], m["scale"])
        return f" {NUMBER_TOKEN}{value}\ue001 " if value else m.group(0)

    return _NUMBER.sub(number, text)
