"""LICENSE_REF: licences named in a clause, as SPDX ids where one exists, else by name.

"Apache License, Version 2.0" -> Apache-2.0, "MIT License" -> MIT, "GNU Affero General Public
License v3" -> AGPL-3.0-only; other named licences keep their name, title-cased, with a trailing
"Agreement" dropped after "Community License" ("Llama 3.2 Community License Agreement" ->
"Llama 3.2 Community License"): "Tongyi Qianwen License Agreement", "Gemma Terms of Use".
"""
from __future__ import annotations

import re

_VERSION = r"(?:,?\s*(?:[Vv]ersion|[Vv]\.?)\s*|\s+)(?P<ver>\d(?:\.\d)?)"
_LATER = r"(?:(?P<later>\s*(?:,\s*)?or\s+(?:\(at\s+your\s+option\)\s+)?(?:any\s+)?later(?:\s+version)?|\+|-or-later\b)|-only\b)?"

# (regex, SPDX template); {ver} is filled from the version group, {later} with -only / -or-later.
SPDX_PATTERNS: list[tuple[str, str]] = [
    (rf"\bApache\s+(?:Software\s+)?License{_VERSION}", "Apache-{ver}"),
    (r"\bApache[- ](?P<ver>2\.0|1\.1)\b", "Apache-{ver}"),
    (r"\b(?:the\s+)?MIT\s+[Ll]icen[cs]e\b", "MIT"),
    (rf"\bGNU\s+(?P<fam>Affero\s+|Lesser\s+)?General\s+Public\s+License,?\s+as\s+published\s+by\s+the\s+Free\s+"
     rf"Software\s+Foundation,?\s+(?:either\s+)?version\s+(?P<ver>\d)(?:\s+of\s+the\s+License)?{_LATER}",
     "{fam}GPL-{ver}{later}"),
    (r"\bversion\s+(?P<ver>\d)\s+of\s+the\s+GNU\s+(?P<fam>Affero\s+|Lesser\s+)?General\s+Public\s+License",
     "{fam}GPL-{ver}-only"),
    (rf"\bGNU\s+Affero\s+General\s+Public\s+License{_VERSION}{_LATER}", "AGPL-{ver}{later}"),
    (rf"\bGNU\s+Lesser\s+General\s+Public\s+License{_VERSION}{_LATER}", "LGPL-{ver}{later}"),
    (rf"\bGNU\s+General\s+Public\s+License{_VERSION}{_LATER}", "GPL-{ver}{later}"),
    (rf"\b(?P<fam>AGPL|LGPL|GPL)[- ]?v?(?P<ver>\d(?:\.\d)?){_LATER}", "{fam}-{ver}{later}"),
    (rf"\bMozilla\s+Public\s+License{_VERSION}", "MPL-{ver}"),
    (rf"\bEclipse\s+Public\s+License{_VERSION}", "EPL-{ver}"),
    (r"\bBSD\s+(?P<ver>[23])-Clause\b", "BSD-{ver}-Clause"),
    (r"\bThe\s+Unlicense\b", "Unlicense"),
    (r"\bISC\s+License\b", "ISC"),
    (r"\bCC0(?:\s+1\.0)?\b|\bCreative\s+Commons\s+Zero\b", "CC0-1.0"),
    (r"\bCreative\s+Commons\s+Attribution(?P<cc>(?:[-\s]+(?:NonCommercial|NoDerivatives|NoDerivs|ShareAlike))*)"
     r"\s+(?P<ver>\d\.\d)(?:\s+International)?(?:\s+(?:Public\s+)?License)?", "CC-BY{cc}-{ver}"),
    (r"\bCC[- ]BY(?P<cc>(?:-(?:NC|ND|SA))*)[- ](?P<ver>\d\.\d)\b", "CC-BY{cc}-{ver}"),
]
_CC_PARTS = {"noncommercial": "NC", "noderivatives": "ND", "noderivs": "ND", "sharealike": "SA"}
SPDX_RES = [(re.compile(p), t) for p, t in SPDX_PATTERNS]

_NAME_WORD = r"(?:[A-Z][\w.'’&+-]*|\d[\w.]*)"
NAMED_RE = re.compile(
    rf"\b(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,5}})\s+(?P<kind>(?:Community\s+|Open\s+Model\s+|Research\s+|"
    r"Non-?Commercial\s+|Public\s+|Model\s+)?(?:License|Licence|LICENSE|LICENCE)(?:\s+(?:Agreement|AGREEMENT))?"
    r"|Terms\s+of\s+Use|TERMS\s+OF\s+USE)\b")
# first words that make a capitalised run generic rather than a name
GENERIC = {"this", "the", "that", "such", "any", "each", "your", "our", "their", "its", "a", "an", "original",
           "separate", "commercial", "patent", "copyright", "trademark", "source", "software", "end", "user",
           "grant", "license", "licence", "limited", "additional", "other", "same", "new", "full", "entire",
           "and", "of", "under", "in", "with", "by", "to", "for", "or", "is", "as", "you", "we", "if", "mark",
           "open", "free", "model", "public", "terms", "agreement", "no", "all", "these", "those", "contributor",
           "licensed", "subject", "see", "applicable", "relevant", "non", "exclusive", "standard"}


def _spdx(match: re.Match, template: str) -> str:
    groups = match.groupdict()
    ver = groups.get("ver") or ""
    if template.startswith(("GPL", "AGPL", "LGPL", "{fam}")) and "." not in ver:
        ver += ".0"
    cc = ""
    if groups.get("cc"):
        raw = groups["cc"]
        parts = [_CC_PARTS.get(w.lower(), w.upper()) for w in re.split(r"[-\s]+", raw) if w]
        cc = "".join(f"-{p}" for p in parts)
    later = ""
    if "{later}" in template:
        later = "-or-later" if groups.get("later") else "-only"
    family = {"affero": "A", "lesser": "L"}.get((groups.get("fam") or "").strip().lower(), groups.get("fam") or "")
    if template.startswith("{fam}GPL") and "." not in ver:
        ver += ".0"
    return template.format(ver=ver, cc=cc, later=later, fam=family)


def _name_value(name: str, kind: str) -> str:
    words = name.split()
    if all(not any(c.islower() for c in w) for w in words):   # "LLAMA 3.1 COMMUNITY" -> "Llama 3.1 Community"
        words = [w.title() if w.isalpha() and len(w) > 3 else w for w in words]
    words += [w.title() if w.isupper() else w for w in kind.split()]
    words = ["of" if w == "Of" else w for w in words]
    if words[-3:] == ["Community", "License", "Agreement"] or words[-3:] == ["Community", "Licence", "Agreement"]:
        words = words[:-1]
    return " ".join(words)


def find_licenses(text: str) -> list[tuple[str, int, int]]:
    """(value, start, end) for each licence named in ``text``."""
    found: list[tuple[str, int, int]] = []
    for regex, template in SPDX_RES:
        for m in regex.finditer(text):
            if any(m.start() < e and s < m.end() for _, s, e in found):
                continue
            found.append((_spdx(m, template), m.start(), m.end()))
    for m in NAMED_RE.finditer(text):
        words = m.group("name").split()
        while words and words[0].lower().strip("“”\"'") in GENERIC:
            words = words[1:]
        if not words or all(w.lower() in GENERIC for w in words) or words[-1].endswith(("'s", "’s")):
            continue
        start = m.start("name") + m.group("name").index(words[0])
        if any(start < e and s < m.end() for _, s, e in found):
            continue
        found.append((_name_value(" ".join(words), m.group("kind")), start, m.end()))
    found.sort(key=lambda f: f[1])
    return found
