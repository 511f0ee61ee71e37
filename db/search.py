"""Search that answers: the SQL of the site's ranked search over the current clauses (``/-/search``).

A question typed in plain words becomes an FTS5 query over ``clauses_fts`` (text, path, heading; porter
stemming): each word also matches its British or American spelling (licence/license, authorise/authorize,
behaviour/behavior, modelling/modeling ...), hyphenated words and quoted text are phrases, and common
question words are dropped. Results are ranked by how many of the words a clause has (all of them first),
then by bm25 with the path and heading weighted above the text; a query naming a part of a document
("Article 53", "Article 53(2)", "Section 4.6", "Annex XI") ranks that part's clauses first. Renditions of one
document (sources sharing ``document``) are searched once, in the primary rendition.

Pure functions building SQL and parameters: the Datasette plugin runs them on its read-only connection.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MAX_TERMS = 12
BM25_WEIGHTS = (1.0, 4.0, 2.0)  # text, path, heading
FILTERS = ("family", "kind", "jurisdiction", "tag", "source")
LAW_PARTS = ("Article", "Recital", "Annex", "Chapter")

STOPWORDS = frozenset("""a an and are as at be by can do does for from how i in is it its me my of on or say
says said tell than that the their them these this those to us was we what when where which who whom why will
with about any all""".split())

# words whose British and American spellings differ other than by a rule below (stems, so derived forms
# such as "behavioural" or "favourable" follow)
_OUR = ("arbour", "ardour", "armour", "behaviour", "candour", "clamour", "colour", "demeanour", "endeavour",
        "favour", "flavour", "harbour", "honour", "humour", "labour", "neighbour", "odour", "parlour", "rancour",
        "rigour", "rumour", "savour", "splendour", "tumour", "valour", "vapour", "vigour")
_TRE = ("calibre", "centre", "fibre", "litre", "lustre", "meagre", "sabre", "sceptre", "sombre", "spectre",
        "theatre")
_LL = ("cancel", "channel", "counsel", "dial", "fuel", "label", "level", "marshal", "model", "signal", "total",
       "travel", "tunnel")
_WORDS = {"programme": "program", "programmes": "programs", "catalogue": "catalog", "catalogues": "catalogs",
          "dialogue": "dialog", "judgement": "judgment", "judgements": "judgments",
          "acknowledgement": "acknowledgment", "ageing": "aging", "enrolment": "enrollment",
          "fulfilment": "fulfillment", "instalment": "installment", "skilful": "skillful", "wilful": "willful",
          "practise": "practice", "practised": "practiced", "grey": "gray", "aluminium": "aluminum",
          "manoeuvre": "maneuver", "cheque": "check", "towards": "toward", "whilst": "while"}
_WORDS_BACK = {v: k for k, v in _WORDS.items() if k not in ("cheque", "towards", "whilst", "practise")}
_IZE = re.compile(r"^(?P<stem>[a-z]{3,})(?P<s>is|iz)(?P<end>e|ed|es|ing|ation|ations|er|ers|able)$")
_YSE = re.compile(r"^(?P<stem>[a-z]*l)(?P<s>ys|yz)(?P<end>e|ed|es|ing|er|ers)$")
_ENCE = re.compile(r"^(?P<stem>[a-z]{3,})(?P<s>enc|ens)(?P<end>e|es)$")
_REFERENCE = re.compile(
    r"\b(?P<kind>article|section|annex|chapter|recital|part|title|clause|schedule|exhibit|appendix)\s+"
    r"(?P<num>[0-9]+[a-z]?|[ivxlcdm]+)\b(?P<dotted>(?:\.[0-9a-z]+)*)(?P<rest>(?:\s*\(\s*[0-9a-z]+\s*\))*)", re.I)


def spelling_variants(word: str) -> list[str]:
    """Other spellings of ``word`` (lower case) that mean the same: British and American forms."""
    w = word.lower()
    out: list[str] = []
    for table in (_WORDS, _WORDS_BACK):
        if w in table:
            out.append(table[w])
    for stem in _OUR:
        base = stem[:-3]
        if w.startswith(stem):
            out.append(base + "or" + w[len(stem):])
        elif w.startswith(base + "or") and not w.startswith(base + "our"):
            out.append(stem + w[len(base) + 2:])
    for stem in _TRE:
        american = stem[:-2] + "er"
        british = {"": "", "s": "s", "d": "ed"}
        if w.startswith(stem) and w[len(stem):] in british:
            out.append(american + british[w[len(stem):]])
        elif w == stem[:-1] + "ing":
            out.append(american + "ing")
        elif w.startswith(american) and w[len(american):] in ("", "s", "ed", "ing"):
            rest = w[len(american):]
            out.append(stem[:-1] + "ing" if rest == "ing" else stem + {"": "", "s": "s", "ed": "d"}[rest])
    for stem in _LL:
        for end in ("ed", "ing", "er", "ers"):
            if w == stem + "l" + end:
                out.append(stem + end)
            elif w == stem + end:
                out.append(stem + "l" + end)
    for pattern, swap in ((_IZE, {"is": "iz", "iz": "is"}), (_YSE, {"ys": "yz", "yz": "ys"}),
                          (_ENCE, {"enc": "ens", "ens": "enc"})):
        m = pattern.match(w)
        if m:
            out.append(m["stem"] + swap[m["s"]] + m["end"])
    return [v for v in dict.fromkeys(out) if v != w]


@dataclass
class Term:
    """One thing the clause must contain: a word (with its other spellings) or a phrase."""
    words: list[str]
    prefix: bool = False
    variants: list[str] = field(default_factory=list)

    def fts(self) -> str:
        star = "*" if self.prefix else ""
        main = '"' + " ".join(self.words) + '"' + star
        if not self.variants:
            return main
        return "(" + " OR ".join([main, *(f'"{v}"' for v in self.variants)]) + ")"

    def shown(self) -> str:
        text = " ".join(self.words) + ("*" if self.prefix else "")
        return text if len(self.words) == 1 else f'"{text}"'


def parse_query(text: str) -> list[Term]:
    """The terms of a plain-words query: "quoted phrases", hyphenated-words as phrases, prefix*, no stopwords."""
    terms: list[Term] = []
    for quoted, token in re.findall(r'"([^"]*)"|(\S+)', text or ""):
        if quoted:
            words = re.findall(r"\w+", quoted.lower())
            if words:
                terms.append(Term(words))
            continue
        prefix = token.endswith("*")
        words = re.findall(r"\w+", token.lower())
        if not words:
            continue
        if len(words) == 1:
            word = words[0]
            terms.append(Term([word], prefix=prefix, variants=[] if prefix else spelling_variants(word)))
        else:
            terms.append(Term(words, prefix=prefix))
    kept = [t for t in terms if not (len(t.words) == 1 and not t.prefix and t.words[0] in STOPWORDS)]
    unique: dict[str, Term] = {}
    for term in kept or terms:
        unique.setdefault(term.fts(), term)
    return list(unique.values())[:MAX_TERMS]


def reference_path(text: str) -> str | None:
    """The clause path a query names, as clausewatch writes paths: "Article 53(2)" -> "Article 53 > 2",
    "Annex xi" -> "Annex XI", "section 4.6" -> "Section 4.6"."""
    m = _REFERENCE.search(text or "")
    if not m:
        return None
    kind = m["kind"].capitalize()
    num = m["num"].upper() if re.fullmatch(r"[ivxlcdm]+", m["num"], re.I) else m["num"]
    path = f"{kind} {num}{m['dotted'] or ''}"
    for part in re.findall(r"\(\s*([0-9a-z]+)\s*\)", m["rest"] or "", re.I):
        path += f" > {part}" if part.isdigit() else f" > ({part.lower()})"
    return path


@dataclass
class SearchPlan:
    """The SQL of one search: hits (one page), their count, facet counts and snippets."""
    q: str
    terms: list[Term]
    reference: str | None
    filters: dict[str, str]
    params: dict[str, Any]
    hits_sql: str
    count_sql: str
    facets_sql: str

    def snippet_sql(self, clause_ids: list[int]) -> tuple[str, dict[str, Any]]:
        """Snippets of the text column with the hits between \\x02 and \\x03 (escape, then mark them up)."""
        ids = ",".join(str(int(i)) for i in clause_ids) or "0"
        return (f"SELECT rowid AS clause_id, snippet(clauses_fts, 0, char(2), char(3), ' … ', 40) AS snippet "
                f"FROM clauses_fts WHERE clauses_fts MATCH :any AND rowid IN ({ids})", {"any": self.params["any"]})


def plan_search(q: str, filters: dict[str, str] | None = None, *, page: int = 1, page_size: int = 20,
                all_renditions: bool = False) -> SearchPlan:
    """The SQL for a search ``q`` (may be empty: then the filters list clauses) with ``filters`` (family,
    kind, jurisdiction, tag, source; a jurisdiction also matches its subdivisions, a tag group its tags)."""
    filters = {k: v.strip() for k, v in (filters or {}).items() if k in FILTERS and v and v.strip()}
    terms = parse_query(q)
    reference = reference_path(q)
    params: dict[str, Any] = {f"f_{k}": v for k, v in filters.items()}
    where = ["1 = 1"]
    if "family" in filters:
        where.append("c.family = :f_family")
    if "kind" in filters:
        where.append("c.kind = :f_kind")
    if "source" in filters:
        where.append("c.source = :f_source")
    if "jurisdiction" in filters:
        where.append("(c.jurisdiction = :f_jurisdiction OR c.jurisdiction LIKE :f_jurisdiction || '-%')")
    if "tag" in filters:
        where.append("EXISTS (SELECT 1 FROM clause_tags t WHERE t.clause_id = c.clause_id "
                     "AND (t.tag = :f_tag OR t.tag LIKE :f_tag || '.%'))")
    if not all_renditions:
        where.append("c.source NOT IN (SELECT source FROM renditions WHERE rank > 1)")
    columns = ("c.clause_id, c.source, c.document, c.family, c.kind, c.jurisdiction, c.publisher, c.version_id, "
               "c.version_seq, c.valid_from, c.path, c.heading, c.label, c.text, c.tags, c.ordinal")
    if terms:
        params["any"] = " OR ".join(t.fts() for t in terms)
        matched = " + ".join(f"(rowid IN (SELECT rowid FROM clauses_fts WHERE clauses_fts MATCH :t{i}))"
                             for i in range(len(terms)))
        params.update({f"t{i}": t.fts() for i, t in enumerate(terms)})
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        base = (f"WITH h AS MATERIALIZED (SELECT rowid AS clause_id, bm25(clauses_fts, {weights}) AS score, "
                f"{matched} AS matched FROM clauses_fts WHERE clauses_fts MATCH :any) "
                f"SELECT {columns}, h.matched, h.score, "
                f"{_reference_sql(reference, params)} AS at_reference "
                f"FROM h JOIN current_clauses c ON c.clause_id = h.clause_id WHERE {' AND '.join(where)}")
        law_first = ("c.kind IN ('regulation', 'bill', 'executive-order')"
                     if reference and reference.split()[0] in LAW_PARTS else "0")
        # a named part of a document first (in a law when the part is an article, recital, annex or chapter),
        # in document order; then clauses with more of the words, then bm25
        order = (f"at_reference DESC, at_reference * ({law_first}) DESC, h.matched DESC, "
                 "CASE WHEN at_reference THEN c.source END, CASE WHEN at_reference THEN c.ordinal END, "
                 "h.score, c.clause_id")
    else:
        params["any"] = ""
        base = (f"SELECT {columns}, 0 AS matched, 0 AS score, 0 AS at_reference FROM current_clauses c "
                f"WHERE {' AND '.join(where)}")
        order = "c.kind = 'license' DESC, c.family, c.source, c.ordinal"
    page = max(1, page)
    params.update({"limit": page_size, "offset": (page - 1) * page_size, "n_terms": len(terms)})
    hits_sql = f"SELECT * FROM ({base} ORDER BY {order}) LIMIT :limit OFFSET :offset"
    count_sql = (f"SELECT count(*) AS hits, count(DISTINCT source) AS documents, "
                 f"coalesce(sum(matched = :n_terms), 0) AS complete FROM ({base})")
    facets_sql = (
        f"WITH m AS MATERIALIZED ({base}) "
        "SELECT * FROM (SELECT 'family' AS facet, family AS value, count(*) AS n FROM m WHERE family IS NOT NULL "
        "GROUP BY family) UNION ALL "
        "SELECT * FROM (SELECT 'kind', kind, count(*) FROM m WHERE kind IS NOT NULL GROUP BY kind) UNION ALL "
        "SELECT * FROM (SELECT 'jurisdiction', jurisdiction, count(*) FROM m WHERE jurisdiction IS NOT NULL "
        "GROUP BY jurisdiction) UNION ALL "
        "SELECT * FROM (SELECT 'source', source, count(*) FROM m GROUP BY source) UNION ALL "
        "SELECT * FROM (SELECT 'tag', j.value, count(DISTINCT m.clause_id) FROM m, "
        "json_each(CASE WHEN json_valid(m.tags) THEN m.tags ELSE '[]' END) j GROUP BY j.value)")
    return SearchPlan(q=q, terms=terms, reference=reference, filters=filters, params=params, hits_sql=hits_sql,
                      count_sql=count_sql, facets_sql=facets_sql)


def _reference_sql(reference: str | None, params: dict[str, Any]) -> str:
    if not reference:
        return "0"
    params["ref"] = reference
    return ("(c.path = :ref OR c.path LIKE :ref || ' >%' OR c.path LIKE :ref || '.%' "
            "OR c.path LIKE '% > ' || :ref || ' >%' OR c.path LIKE '% > ' || :ref)")
