"""Normalisations that decide whether a difference between two clause texts is cosmetic.

A clause text goes through a ladder of normalisations (markup, bullets, numbering, URLs, quotes,
case, the document's own release dates and version names, punctuation, spelling). Two texts whose
*key tokens* (the top of the ladder) are equal differ only cosmetically; the steps needed to make
them equal are the cosmetic reasons. What is left after the ladder is judged difference by difference
in ``changes.judge``. Pure: no I/O.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from clausewatch.changes.amounts import canonical_numbers
from clausewatch.changes.notices import is_copyright_notice, mask_copyright, mask_template_holders
from clausewatch.changes.sentinels import (
    DATE,
    DATE_TOKEN,
    HOLDER,
    PLACEHOLDER,
    RELDATE,
    RELEASE,
    SENTINELS,
    URL,
    date_readings,
    is_date_token,
)
from clausewatch.changes.stamps import (
    DATE_LINE,
    DATE_PATTERN,
    canonical_dates,
    find_dates,
    footer_dates,
    mask_relative_dates,
)

__all__ = ["DATE", "DATE_TOKEN", "HOLDER", "PLACEHOLDER", "RELDATE", "RELEASE", "SENTINELS", "URL", "canonical_dates",
           "date_readings", "find_dates", "footer_dates", "is_copyright_notice", "is_date_token", "mask_copyright",
           "mask_relative_dates", "mask_template_holders"]

# ------------------------------------------------------------------ markup, characters, bullets

_HTML_TAGS = ("a|abbr|b|big|blockquote|br|center|code|del|div|em|figure|figcaption|font|h[1-6]|hr|i|img|ins|"
              "li|mark|ol|p|pre|s|section|small|span|strike|strong|sub|sup|table|tbody|td|th|thead|tr|tt|u|ul")
_HTML_TAG = re.compile(rf"</?(?:{_HTML_TAGS})\b[^<>]*>", re.I)
_MD_LINK = re.compile(r"!?\[([^\]\n]*)\]\(([^)\s]*)\)")
_MD_EMPHASIS = re.compile(r"\*+|`+|(?<!\w)__?|__?(?!\w)|~~")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~])")
# a Markdown table row "| (d) | text |": the pipes are layout (a list printed as a table)
_MD_TABLE_RULE = re.compile(r"(?m)^\s*\|?(?:\s*:?-{3,}:?\s*\|)+\s*:?-*:?\s*$")
_MD_TABLE_EDGE = re.compile(r"(?m)^\s*(?:\|\s*)+|(?:\s*\|)+\s*$")
_MD_TABLE_CELL = re.compile(r"\s\|\s")
_MD_LINE = re.compile(r"(?m)^\s*(?:#{1,6}|>+)\s+")
_BULLET = re.compile(r"(?m)(?:^|(?<=\n))\s*[*\-+•◦▪▫●○■□‣⁃·–—]\s+")
_CHAR_MAP = str.maketrans({
    "“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"', "″": '"', "〝": '"', "〞": '"',
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'", "´": "'",
    "–": "-", "—": "-", "‑": "-", "‒": "-", "−": "-", "―": "-", "…": "...",
})
_SPACE = re.compile(r"\s+")


def collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def strip_markup(text: str) -> str:
    """Markdown and inline HTML markup dropped; a Markdown link keeps its text and its URL."""
    text = _MD_LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})" if m.group(2) and m.group(2) != m.group(1)
                        else m.group(1), text)
    text = _HTML_TAG.sub(" ", text)
    text = _MD_LINE.sub("", text)
    text = _MD_TABLE_EDGE.sub("", _MD_TABLE_RULE.sub("", text))
    text = _MD_TABLE_CELL.sub("  ", text)
    return _MD_ESCAPE.sub(r"\1", text)


def strip_emphasis(text: str) -> str:
    return _MD_EMPHASIS.sub("", text)


_AMPERSAND = re.compile(r"(?<=\w)\s*&\s*(?=\w)|\s&\s")


def unify_chars(text: str) -> str:
    """Curly and straight quotes, dashes and ellipses to one style each; "&" between words is "and"."""
    text = nfkc(text).translate(_CHAR_MAP)
    return _AMPERSAND.sub(" and ", text) if "&" in text else text


def strip_bullets(text: str) -> str:
    return _BULLET.sub(" ", text)


# A list label as printed at the start of an item ("1.", "(a)", "iv.", "1.2."): at the very start of the
# text or after the end of a sentence, a colon or a semicolon, so "(A) and (B)" inside a sentence stay.
_LABEL = re.compile(
    r"(?:^|(?<=[.:;]\s)|(?<=\n))\s*[‘'\"“]?(?:\((?:\d{1,3}|[A-Za-z]|[ivxlcdmIVXLCDM]{1,6})\)"
    r"|(?:\d{1,3}(?:\.\d{1,3}){0,3}|[A-Za-z]|[ivxlcdmIVXLCDM]{1,6})[.)])(?=\s)")


def strip_labels(text: str) -> str:
    return _LABEL.sub(" ", text)


# ------------------------------------------------------------------ URLs, placeholders

_TLDS = "com|org|net|dev|ai|io|gov|eu|edu|int|co|uk|de|fr|cn|info|app|me|ly|gl|html?"
_URL = re.compile(
    # a URL broken over two lines of a PDF ("http://data.europa. eu/eli/...") continues after "." or "/"
    r"(?:https?://|ftp://|www\.)[^\s<>\"'“”‘’]+(?:(?<=[./])\s(?=[^\s<>\"'“”‘’]*/)[^\s<>\"'“”‘’]+)*"
    r"|(?:mailto:)?[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    rf"|(?<![\w@/.-])(?:[a-z0-9-]+\.)+(?:{_TLDS})(?:/[^\s<>\"'“”‘’]*)?(?![\w-])"
    # the target of a relative or in-page link, as strip_markup prints it: "Privacy Policy (/legal/privacy)"
    r"|(?<=\()(?:\.{0,2}/|#)[^\s<>()\"'“”‘’]*(?=\))", re.I)
_URL_TRAIL = ".,;:!?)]}'\""
_PLACEHOLDER = re.compile(
    r"[\[<{]\s*(?:[A-Za-z]+\s+){0,5}?(?:yyyy|year|name|owner|holders?|author|fullname|company|organi[sz]ation|"
    r"licensor|entity|date|e-?mail|project|product)(?:\s+[A-Za-z]+){0,5}\s*[\]>}]", re.I)


def mask_urls(text: str) -> str:
    def repl(m: re.Match) -> str:
        url = m.group(0)
        stripped = url.rstrip(_URL_TRAIL)
        if url.count("(") < url.count(")"):  # "(see https://x.org/a)" keeps its closing bracket
            stripped = stripped.rstrip(")")
        return f" {URL} {url[len(stripped):]}"
    return _URL.sub(repl, text)


# query parameters that identify a visit, a campaign or a session, never the page
_TRACKING = re.compile(r"^(?:utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|mc_cid|mc_eid|_ga|_gl|_hs\w+|"
                       r"hsctatracking|__hs\w+|igshid|si|spm|ref|ref_src|ref_url|referrer|source|src|trk|cmpid|"
                       r"campaign|mkt_tok|sessionid|session_id|sid|jsessionid|phpsessid|aspsessionid\w*|s_kwcid|"
                       r"oly_\w+|rb_clickid|vero_\w+|wt\.\w+)$", re.I)
_PATH_SESSION = re.compile(r";(?:jsessionid|sessionid|sid)=[^/?#]*", re.I)


def canonical_url(url: str) -> str:
    """A URL without what varies between visits: http or https, ``www.``, tracking and session
    parameters, path session ids, a trailing slash; the host in lower case."""
    stripped = url.rstrip(_URL_TRAIL)
    tail = url[len(stripped):]
    u = re.sub(r"^(?:https?://|ftp://)", "", stripped, flags=re.I)
    u = re.sub(r"^www\.", "", u, flags=re.I)
    u = _PATH_SESSION.sub("", u)
    head, _, fragment = u.partition("#")
    path, _, query = head.partition("?")
    host, slash, rest = path.partition("/")
    path = host.lower() + slash + rest
    params = [p for p in query.split("&") if p and not _TRACKING.match(p.split("=", 1)[0])]
    out = path.rstrip("/")
    if params:
        out += "?" + "&".join(params)
    if fragment:
        out += "#" + fragment
    return "https://" + out + tail


def canonical_urls(text: str) -> str:
    return _URL.sub(lambda m: canonical_url(m.group(0)), text)


def mask_placeholders(text: str) -> str:
    return _PLACEHOLDER.sub(f" {PLACEHOLDER} ", text)


# ------------------------------------------------------------------ the document's own release

_VERSION = re.compile(r"(?<![\w.])(v?\d{1,2}(?:\.\d{1,3}){0,3}[a-z]?)(?![\w]|[.,]\d)", re.I)
_NAME_WORDS = re.compile(r"((?:[A-Za-z][\w'-]*[\s-]+){1,3})$")
_NOT_NAMES = {"section", "sections", "article", "articles", "chapter", "annex", "part", "page", "paragraph",
              "item", "schedule", "exhibit", "appendix", "title", "no", "number", "clause", "of", "the", "and",
              "to", "in", "at", "on", "for", "by", "with", "under", "than", "over", "from", "or", "a", "an"}


@dataclass
class DocContext:
    """What a document says about its own release: its name with version ("Llama 3.1") and its dates."""

    release_names: list[str] = field(default_factory=list)
    release_dates: set[str] = field(default_factory=set)
    bare_names: list[str] = field(default_factory=list)     # "llama" of "Llama 3.1", outside quotes only
    template_copy: bool = False   # copies of one template licence: its generic holder is a placeholder
    _pattern: re.Pattern | None = field(default=None, repr=False, compare=False)
    _bare: re.Pattern | None = field(default=None, repr=False, compare=False)

    def mask(self, text: str) -> str:
        if self.release_dates:
            parts, last = [], 0
            for start, end, value in find_dates(text):
                if value in self.release_dates and start >= last:
                    parts += [text[last:start], f" {DATE} "]
                    last = end
            if parts:
                text = "".join(parts) + text[last:]
        if self.template_copy:
            text = mask_template_holders(text)
        if self.release_names:
            if self._pattern is None:
                self._pattern = _phrase_pattern(self.release_names, r"(?![\w]|[.,]\d)")
            text = self._pattern.sub(f" {RELEASE} ", text)
        if self.bare_names:
            # the release's name without its number is a mention of the same release ("uses of Llama"),
            # except in quotes: a quoted name is a literal to display or to name models with
            if self._bare is None:
                self._bare = _phrase_pattern(self.bare_names, r"(?![\w-]|\s+\d|[.,]\d)")
            quoted = [m.span() for m in _QUOTED.finditer(text)]
            text = self._bare.sub(lambda m: m.group(0) if any(a < m.start() < b for a, b in quoted)
                                  else f" {RELEASE} ", text)
        return text


_QUOTED = re.compile(r'["“”„][^"“”„\n]{0,300}["“”„]')
_GENERIC = {"version", "release", "revision", "edition", "v", "license", "licence", "agreement", "terms",
            "policy", "model", "models", "act", "regulation", "community", "public", "general", "use",
            "acceptable", "of", "the", "and", "for", "open", "source", "code", "software", "document"}


def _phrase_pattern(phrases: list[str], tail: str) -> re.Pattern:
    alts = [r"[\s-]+".join(re.escape(w) for w in p.split()) for p in sorted(phrases, key=len, reverse=True)]
    return re.compile(r"(?<![\w.\ue000])(?:" + "|".join(alts) + ")" + tail, re.I)


def doc_context(header_texts: Iterable[str]) -> DocContext:
    """The release names and dates a document gives in its header (title, version and date lines).

    A release name is a version number ("3.1", "v2") with the one to three capitalised words before it
    ("Meta Llama 3", "Llama 3"); a structural word ("Section 3") is not a name.
    """
    ctx = DocContext()
    for raw in header_texts:
        text = unify_chars(strip_emphasis(strip_markup(raw)))
        if len(text.split()) <= 12 or DATE_LINE.search(text):
            ctx.release_dates.update(value for _, _, value in find_dates(text))
        text = DATE_PATTERN.sub(" ", text)
        text = _URL.sub(" ", text)
        if capitalised_share(text) < 0.6:   # a sentence ("Give 3 days notice"), not a title
            continue
        for m in _VERSION.finditer(text):
            before = _NAME_WORDS.search(text[:m.start()])
            if not before:
                continue
            words = before.group(1).replace("-", " ").split()
            for k in range(1, len(words) + 1):
                name = words[-k:]
                if name[0].lower() in _NOT_NAMES or not name[0][0].isupper():
                    continue
                if any(w.lower() in _NOT_NAMES for w in name):
                    break
                phrase = " ".join([*name, m.group(1)]).lower()
                if phrase not in ctx.release_names:
                    ctx.release_names.append(phrase)
                bare = " ".join(name).lower()
                if bare not in ctx.bare_names and not all(w in _GENERIC for w in bare.split()):
                    ctx.bare_names.append(bare)
        for m in _ATTACHED_VERSION.finditer(text):     # "Qwen2.5", "Phi-3"
            if m.group(1).lower() in _NOT_NAMES or m.group(1).lower() in _GENERIC:
                continue
            phrase = m.group(0).lower()
            if phrase not in ctx.release_names:
                ctx.release_names.append(phrase)
            if m.group(1).lower() not in ctx.bare_names:
                ctx.bare_names.append(m.group(1).lower())
    return ctx


_WORD = re.compile(r"[^\W\d_]+")
_MINOR_WORDS = {"a", "an", "the", "of", "and", "or", "for", "to", "in", "on", "at", "by", "with", "de", "du", "des"}


def capitalised_share(text: str) -> float:
    """The share of a text's significant words that start with a capital letter (titles: most of them)."""
    words = [w for w in _WORD.findall(text) if w.lower() not in _MINOR_WORDS]
    return sum(w[0].isupper() for w in words) / len(words) if words else 0.0


_ATTACHED_VERSION = re.compile(r"(?<![\w.-])([A-Z][A-Za-z]{1,20})-?(\d{1,2}(?:\.\d{1,3}){0,3})(?![\w]|[.,]\d)")
# ------------------------------------------------------------------ spelling

_VARIANTS = {
    "licence": "license", "licences": "licenses", "licenced": "licensed", "licencing": "licensing",
    "licencee": "licensee", "licencees": "licensees", "licencor": "licensor", "licencors": "licensors",
    "defence": "defense", "offence": "offense", "offences": "offenses", "pretence": "pretense",
    "programme": "program", "programmes": "programs", "judgement": "judgment", "judgements": "judgments",
    "acknowledgement": "acknowledgment", "acknowledgements": "acknowledgments", "ageing": "aging",
    "catalogue": "catalog", "dialogue": "dialog", "grey": "gray", "cheque": "check", "enrolment": "enrollment",
    "fulfil": "fulfill", "fulfils": "fulfills", "fulfilment": "fulfillment", "instalment": "installment",
    "artefact": "artifact", "artefacts": "artifacts", "whilst": "while", "amongst": "among", "towards": "toward",
    "email": "email", "e-mail": "email", "afterwards": "afterward", "practise": "practice", "practised": "practiced",
    "centre": "center", "centres": "centers", "metre": "meter", "metres": "meters", "fibre": "fiber",
    "litre": "liter", "theatre": "theater", "manoeuvre": "maneuver", "anaesthesia": "anesthesia",
    "%": "percent",
}
_OUR = {"colour", "behaviour", "honour", "favour", "labour", "neighbour", "harbour", "endeavour", "rumour",
        "humour", "vigour", "savour", "flavour", "odour", "armour", "parlour", "valour", "vapour", "candour"}
_OUR_RE = re.compile("(" + "|".join(sorted(_OUR, key=len, reverse=True)) + ")")
_ISE = re.compile(r"(?<=[a-z]{3})is(e|es|ed|ing|ation|ations|er|ers)$")
_YSE = re.compile(r"(?<=[a-z]{3})ys(e|es|ed|ing)$")
_LL = re.compile(r"(cancel|label|model|travel|signal|channel|fuel|counsel|total|level)l(ed|ing|er|ers)$")


@lru_cache(maxsize=131072)
def canonical_spelling(word: str) -> str:
    """British and American variants of a lower-case word to one form (licence -> license)."""
    if word in _VARIANTS:
        return _VARIANTS[word]
    m = _OUR_RE.match(word)
    if m:
        return m.group(1)[:-2] + "r" + word[m.end(1):]
    if _ISE.search(word):
        return _ISE.sub(r"iz\1", word)
    if _YSE.search(word):
        return _YSE.sub(r"yz\1", word)
    m = _LL.search(word)
    if m:
        return word[:m.start()] + m.group(1) + m.group(2)
    return word


# ------------------------------------------------------------------ tokens

_TOKEN = re.compile(r"\ue000[\w=|-]+\ue001|\d+(?:[.,]\d+)+[^\W_]*|[^\W_]+|[%$€£¥§]")


@lru_cache(maxsize=65536)
def _context_free_key(text: str) -> str:
    """The steps of :func:`pre_key` that do not depend on the documents compared: computed once per clause
    text, however many comparisons the text takes part in (the pairs step compares a version many times)."""
    text = mask_urls(strip_markup(nfkc(text)))
    text = strip_labels(strip_bullets(strip_emphasis(text)))
    return mask_placeholders(mask_copyright(mask_relative_dates(unify_chars(text))))


def pre_key(text: str, ctx: DocContext | None = None) -> str:
    """The ladder up to punctuation: markup, URLs, bullets, numbering, quotes, case, release names/dates."""
    text = _context_free_key(text)
    if ctx is not None:
        text = ctx.mask(text)
    return canonical_numbers(canonical_dates(text)).lower()


def key_tokens(text: str, ctx: DocContext | None = None) -> list[str]:
    """The comparable words of a clause: every cosmetic difference normalised away."""
    return [canonical_spelling(t) for t in _TOKEN.findall(pre_key(text, ctx))]


# ------------------------------------------------------------------ reasons

def _ladder(text: str, ctx: DocContext | None) -> Iterator[tuple[str, list[str]]]:
    """(step, whitespace-split words after the step) for each rung of the ladder, lazily."""
    t = strip_markup(nfkc(text))
    yield "markdown", t.split()
    t = canonical_urls(t)
    yield "url_tracking", t.split()
    t = mask_urls(t)
    yield "urls", t.split()
    t = strip_emphasis(t)
    yield "markdown", t.split()
    t = strip_bullets(t)
    yield "bullets", t.split()
    t = strip_labels(t)
    yield "numbering", t.split()
    t = unify_chars(t)
    yield "quotes", t.split()
    t = mask_relative_dates(t)
    yield "relative_date", t.split()
    t = mask_copyright(t)
    yield "copyright_holder", t.split()
    t = mask_placeholders(t)
    yield "placeholder", t.split()
    if ctx is not None:
        yield "release_date", DocContext(release_dates=ctx.release_dates).mask(t).split()
        if ctx.template_copy:
            t = mask_template_holders(t)
            yield "placeholder", t.split()
        t = ctx.mask(t)
        yield "release_version", t.split()
    t = canonical_dates(t)
    yield "date_format", t.split()
    t = canonical_numbers(t)
    yield "number_format", t.split()
    t = t.lower()
    yield "case", t.split()
    words = _TOKEN.findall(t)
    yield "punctuation", words
    yield "spelling", [canonical_spelling(w) for w in words]


def _distance(a: Counter, b: Counter) -> int:
    return sum(((a - b) + (b - a)).values())


def ladder_reasons(old: str, new: str, old_ctx: DocContext | None = None,
                   new_ctx: DocContext | None = None) -> list[str]:
    """The cosmetic normalisation steps that bring ``old`` and ``new`` closer, in ladder order."""
    reasons: list[str] = []
    if old != new and old.split() == new.split():
        return ["whitespace"]
    if collapse(old) != old or collapse(new) != new:
        old, new = collapse(old), collapse(new)
    prev = _distance(Counter(old.split()), Counter(new.split()))
    if prev == 0 and old != new:
        reasons.append("whitespace")
    last_a, last_b = old.split(), new.split()
    for (step, a), (_, b) in zip(_ladder(old, old_ctx), _ladder(new, new_ctx), strict=True):
        if prev == 0:
            break
        if a == last_a and b == last_b:   # this step changed neither text
            continue
        d = _distance(Counter(a), Counter(b))
        if d < prev and step not in reasons:
            reasons.append(step)
        prev, last_a, last_b = d, a, b
    return reasons
