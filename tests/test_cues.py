"""No cue is copied from the gold, and no test sentence either.

The dev gold (../shared/gold/dev.yaml) is for evaluation only (scripts/score_dev.py, bench/layouts.py).
These tests fail when
- a cue phrase of the rules (the PhraseMatcher lexicon of nlp.rules and the document-kind words) of four
  or more words occurs verbatim, after the scorer's normalisation, in a dev gold quote;
- a test file of the tagger or the segmenter (or its text fixtures), or a module of nlp/, holds a run of
  six or more words of a dev gold quote.
They read the shared folder from $CLAUSEWATCH_SHARED, else ../shared beside the repository, and are
skipped only when the gold file is absent.
"""
from __future__ import annotations

import ast
import importlib.util
import os
import re
import tokenize
from pathlib import Path

import pytest
import yaml

from clausewatch.nlp.rules import NEAR, PHRASES
from clausewatch.nlp.rules.context import _KIND_WORDS

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CLAUSEWATCH_SHARED", ROOT.parent / "shared"))
GOLD = SHARED / "gold" / "dev.yaml"
OWN_TESTS = ["test_tagger.py", "test_segment.py", "test_entities.py", "test_layouts.py", "test_cues.py",
             "test_classic_licences.py"]
NOT_TAGGING = {"align.py", "align_passes.py", "cosmetic.py", "cosmetic_judge.py"}  # change detection, not tagging
MIN_CUE_WORDS = 4
MIN_RUN_WORDS = 6


def _norm():
    """The scorer's normalisation (its own function when the scorer is there)."""
    scorer = SHARED / "eval" / "score_tags.py"
    if scorer.is_file():
        spec = importlib.util.spec_from_file_location("score_tags_for_cues", scorer)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.norm
    quotes = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00a0": " ",
                            "\u2013": "-", "\u2014": "-", "\u00ad": None})
    return lambda text: re.sub(r"\s+", " ", re.sub(r"[*#`]", "", text.translate(quotes).lower())).strip()


@pytest.fixture(scope="module")
def gold_quotes() -> list[str]:
    if not GOLD.is_file():
        pytest.skip(f"no dev gold at {GOLD} (set CLAUSEWATCH_SHARED)")
    norm = _norm()
    documents = yaml.safe_load(GOLD.read_text(encoding="utf-8"))["documents"]
    return [norm(item["quote"]) for doc in documents for item in doc.get("clauses") or []]


def cue_phrases() -> list[tuple[str, str]]:
    """(label, phrase) of every cue phrase: the PhraseMatcher lexicon and the document-kind words."""
    out = [(label, phrase) for label, items in PHRASES.items() for phrase in items]
    out += [(f"kind:{kind}", word) for kind, words in _KIND_WORDS.items() for word in words]
    return out


def test_the_lexicon_is_read():
    assert len(cue_phrases()) > 1000 and "GRANT_STRONG" in PHRASES and NEAR


def test_no_cue_phrase_of_four_or_more_words_is_a_gold_quote_fragment(gold_quotes):
    norm = _norm()
    text = "\n".join(gold_quotes)
    copied = sorted({f"{label}: {phrase!r}" for label, phrase in cue_phrases()
                     if len(norm(phrase).split()) >= MIN_CUE_WORDS and norm(phrase) in text})
    assert not copied, "cue phrases copied from dev gold quotes:\n" + "\n".join(copied)


def _words(text: str, norm) -> list[str]:
    return re.findall(r"[a-z0-9]+", norm(text))


def _gold_runs(gold_quotes: list[str], norm) -> set[tuple[str, ...]]:
    runs = set()
    for quote in gold_quotes:
        words = _words(quote, norm)
        runs.update(tuple(words[i:i + MIN_RUN_WORDS]) for i in range(len(words) - MIN_RUN_WORDS + 1))
    return runs


def _sources() -> list[Path]:
    files = [ROOT / "tests" / name for name in OWN_TESTS]
    files += sorted((ROOT / "tests" / "fixtures" / "segment").glob("*.txt"))
    files += sorted(f for f in (ROOT / "nlp").rglob("*.py") if f.name not in NOT_TAGGING)
    return [f for f in files if f.is_file()]


def texts_of(path: Path) -> list[str]:
    """The string literals (adjacent literals joined, as Python joins them) and comments of a module; the
    whole text of any other file."""
    if path.suffix != ".py":
        return [path.read_text(encoding="utf-8")]
    out: list[str] = []
    pending: list[str] = []
    with path.open(encoding="utf-8") as handle:
        for tok in tokenize.generate_tokens(handle.readline):
            if tok.type == tokenize.STRING:
                try:
                    value = ast.literal_eval(tok.string)
                except (ValueError, SyntaxError):
                    value = tok.string
                pending.append(value if isinstance(value, str) else "")
                continue
            if tok.type in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT) and pending:
                continue
            if tok.type == tokenize.COMMENT:
                out.append(tok.string)
                continue
            if pending:
                out.append("".join(pending))
                pending = []
    if pending:
        out.append("".join(pending))
    return out


def test_no_test_or_rule_module_holds_six_words_of_a_gold_quote(gold_quotes):
    norm = _norm()
    runs = _gold_runs(gold_quotes, norm)
    found = []
    for path in _sources():
        for text in texts_of(path):
            words = _words(text, norm)
            for i in range(len(words) - MIN_RUN_WORDS + 1):
                if tuple(words[i:i + MIN_RUN_WORDS]) in runs:
                    found.append(f"{path.relative_to(ROOT)}: {' '.join(words[i:i + MIN_RUN_WORDS])}")
    assert not found, "runs of gold quotes:\n" + "\n".join(sorted(set(found))[:400])


def test_the_checks_would_catch_a_copy(gold_quotes, tmp_path):
    """The two checks above are not vacuous: a gold quote fragment is caught by both."""
    norm = _norm()
    longest = max(gold_quotes, key=lambda q: len(q.split()))
    fragment = " ".join(longest.split()[:MIN_RUN_WORDS])
    assert fragment in "\n".join(gold_quotes)
    module = tmp_path / "copied.py"
    module.write_text(f"CASE = ({fragment[:20]!r}\n        {fragment[20:]!r})\n", encoding="utf-8")
    [text] = texts_of(module)
    assert tuple(_words(text, norm)[:MIN_RUN_WORDS]) in _gold_runs(gold_quotes, norm)
