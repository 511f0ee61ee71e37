"""Real history: the corpus' release pairs and negative controls through `clausewatch diff`, the EU AI Act
across its three renderings, and the `changes` pipeline step (scopes version, release, incorporated)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli

ARTIFACTS = ROOT / "artifacts"


def diff_json(corpus: Path, old: str, new: str) -> tuple[int, list[dict]]:
    proc = run_cli("diff", str(corpus / old), str(corpus / new), "--format", "jsonl")
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


def substantive(changes: list[dict]) -> list[dict]:
    return [c for c in changes if c["substantive"]]


def text_of(change: dict) -> str:
    return " ".join(t for t in (change["old_text"], change["new_text"]) if t)


# ------------------------------------------------------------------ real history

def test_llama_license_3_to_3_1(corpus):
    status, changes = diff_json(corpus, "llama-license/3.txt", "llama-license/3.1.txt")
    found = substantive(changes)
    assert status == 1
    # the ban on using outputs to improve other models is gone
    assert any(c["kind"] == "removed" and "improve any other large language model" in c["old_text"] for c in found)
    # the naming rule: derivatives are named "Llama ..." instead of "Llama 3 ..."
    naming = [c for c in found if c["kind"] == "modified" and "at the beginning of any such AI model name" in
              (c["new_text"] or "")]
    assert naming and "“Llama 3”" in naming[0]["old_text"] and "“Llama”" in naming[0]["new_text"]
    # attribution: "Built with Meta Llama 3" -> "Built with Llama"
    assert any("Built with Llama" in (c["new_text"] or "") and "Built with Meta Llama 3" in (c["old_text"] or "")
               for c in found)
    # the release's own name, date and URLs are not what changed
    assert not any("Version Release Date" in text_of(c) for c in found)


def test_llama_license_3_1_to_3_2_is_cosmetic(corpus):
    status, changes = diff_json(corpus, "llama-license/3.1.txt", "llama-license/3.2.txt")
    assert status == 0 and changes and not substantive(changes)
    reasons = {r for c in changes for r in c["cosmetic_reasons"]}
    assert {"release_version", "release_date", "urls"} <= reasons


def test_llama_use_policy_3_1_to_3_2(corpus):
    status, changes = diff_json(corpus, "llama-aup/3.1.md", "llama-aup/3.2.md")
    found = substantive(changes)
    assert status == 1
    eu = [c for c in found if "European Union" in (c["new_text"] or "")]
    assert eu and "restrict.geographic" in eu[0]["tags_added"]
    assert any("circumvent or remove usage restrictions" in (c["new_text"] or "") for c in found)


def test_gemma_terms_2024_to_2025(corpus):
    status, changes = diff_json(corpus, "gemma-terms/2024-02-21.txt", "gemma-terms/2025-03-24.txt")
    found = substantive(changes)
    assert status == 1
    assert any("use the latest version of Gemma" in (c["old_text"] or "")
               and "latest version" not in (c["new_text"] or "") for c in found)
    assert any("in the Appendix" in (c["new_text"] or "") for c in found)
    # "OR OR DISTRIBUTING" -> "OR DISTRIBUTING" and the numbered list are cosmetic
    assert not any("DISTRIBUTING ANY OF THE GEMMA SERVICES" in (c["new_text"] or "") for c in found)


def test_qwen_revisions(corpus):
    status, changes = diff_json(corpus, "qwen-license/tongyi-qianwen-2023-08-03-initial.txt",
                                "qwen-license/tongyi-qianwen-2023-08-03-rev.txt")
    assert status == 1
    assert any("defend, indemnify and hold harmless" in (c["new_text"] or "") for c in substantive(changes))
    assert any("Tongyi Qianwen Materials" in (c["new_text"] or "") for c in substantive(changes))
    assert any("Qwen-7B" in (c["new_text"] or "") and not c["substantive"] for c in changes)   # 7b -> 7B
    status, changes = diff_json(corpus, "qwen-license/tongyi-qianwen-2023-08-03-rev.txt",
                                "qwen-license/tongyi-qianwen-2023-09-25.txt")
    assert status == 1 and any("Qwen-Chat model" in (c["new_text"] or "") for c in substantive(changes))
    status, changes = diff_json(corpus, "qwen-license/tongyi-qianwen-2023-09-25.txt",
                                "qwen-license/tongyi-qianwen-2023-11-30.txt")
    assert status == 0 and not substantive(changes)


@pytest.mark.parametrize("old,new", [
    ("llama-license/3.txt", "llama-license/3-llama3-repo.txt"),
    ("deepseek-license/1.0.txt", "deepseek-license/1.0-deepseek-llm.txt"),
    ("gpt-oss/LICENSE-apache-2.0-2025-08-05-initial.txt", "gpt-oss/LICENSE-apache-2.0.txt"),
    ("us-eo-14110/2023-10-30-whitehouse-gov.md", "us-eo-14110/2025-02-05-bidenwhitehouse-archive.md"),
    ("llama-aup/3.md", "llama-aup/3-llama3-repo.md"),
    ("llama-aup/2.md", "llama-aup/2-github.md"),
])
def test_negative_controls(corpus, old, new):
    status, changes = diff_json(corpus, old, new)
    assert not substantive(changes), [(c["old_path"], c["new_path"]) for c in substantive(changes)]
    assert status == 0


# ------------------------------------------------------------------ the AI Act in three renderings

AI_ACT = {"html": "eu-ai-act/2024-1689.html", "pdf": "eu-ai-act/2024-1689-oj.pdf",
          "formex": "eu-ai-act/2024-1689-formex/L_202401689EN.doc.fmx.xml"}


@pytest.mark.slow
@pytest.mark.parametrize("old,new", [("html", "pdf"), ("html", "formex"), ("pdf", "formex")])
def test_ai_act_cross_format(corpus, old, new):
    proc = run_cli("diff", str(corpus / AI_ACT[old]), str(corpus / AI_ACT[new]), "--format", "jsonl")
    assert proc.returncode in (0, 1), proc.stderr
    changes = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    left = substantive(changes)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"ai-act-{old}-vs-{new}.json").write_text(json.dumps({
        "changes": len(changes), "substantive": len(left),
        "cosmetic_reasons": sorted({r for c in changes for r in c["cosmetic_reasons"]}),
        "left": [{k: c[k] for k in ("kind", "old_path", "new_path", "old_text", "new_text")} for c in left],
    }, indent=1, ensure_ascii=False))
    assert not left, [(c["kind"], c["old_path"], c["new_path"]) for c in left]
    assert proc.returncode == 0


# ------------------------------------------------------------------ the changes pipeline step

def _store(db, source_id: str, day: str, text: str) -> int:
    from clausewatch.db.documents import Fetched, record_document, source_pk

    pk = source_pk(db, source_id)
    fetched = Fetched(source=pk, url=f"https://example.com/{source_id}", requested_at=f"{day}T06:00:00Z",
                      http_status=200, outcome="new_version", body=text.encode(), content_type="text/plain")
    return record_document(db, None, fetched, text=text, extractor_version="test", valid_from=day)["version_id"]


def _source(source_id: str, family: str, version: str, date: str, incorporates: list[str] | None = None) -> dict:
    return {"source_id": source_id, "title": source_id, "url": f"https://example.com/{source_id}", "family": family,
            "version_label": version, "release_date": date, "incorporates": incorporates,
            "kind": "use-policy" if "policy" in source_id else "license"}


ACME_1 = "ACME 1 LICENSE\n\n1. You may use the model.\n\n2. You may not use outputs to train other models."
ACME_1B = "ACME 1 LICENSE\n\n1. You may use and modify the model.\n\n2. You may not use outputs to train other models."
ACME_2 = "ACME 2 LICENSE\n\n1. You may use and modify the model."
POLICY_1 = "ACME 1 USE POLICY\n\n1. Do not use the model for weapons."
POLICY_2 = "ACME 2 USE POLICY\n\n1. Do not use the model for weapons.\n\n2. Do not use the model in the European Union."


def _hand_clauses(text: str) -> list:
    """Clauses without the segmenter: one per numbered block, so this test depends on the aligner alone."""
    from clausewatch.nlp.model import Clause, Segment

    out = []
    for k, block in enumerate(text.split("\n\n")[1:]):
        label, _, words = block.partition(" ")
        out.append(Clause(Segment(k, f"Section {label.rstrip('.')}", None, label, words, 0, len(block))))
    return out


def test_detect_changes_scopes_and_idempotence(tmp_path, monkeypatch):
    from clausewatch.db import connect
    from clausewatch.db.clauses import replace_clauses
    from clausewatch.db.comparisons import changes_of, comparisons_of
    from clausewatch.db.documents import sync_sources
    from clausewatch.nlp.version import NLP_VERSION
    from clausewatch.stages import detect as step
    from clausewatch.stages.process import clause_rows

    db = connect(tmp_path / "cw.db")
    sync_sources(db, [_source("acme-1-license", "acme-license", "1", "2024-01-01", ["acme-1-use-policy"]),
                      _source("acme-2-license", "acme-license", "2", "2024-06-01", ["acme-2-use-policy"]),
                      _source("acme-1-use-policy", "acme-use-policy", "1", "2024-01-01"),
                      _source("acme-2-use-policy", "acme-use-policy", "2", "2024-06-01")])
    stored = {}
    for source_id, day, text in [("acme-1-license", "2024-01-01", ACME_1), ("acme-1-use-policy", "2024-01-01", POLICY_1),
                                 ("acme-1-license", "2024-03-01", ACME_1B), ("acme-2-license", "2024-06-01", ACME_2),
                                 ("acme-2-use-policy", "2024-06-01", POLICY_2)]:
        vid = _store(db, source_id, day, text)
        replace_clauses(db, vid, clause_rows(_hand_clauses(text)), NLP_VERSION)
        stored[(source_id, day)] = vid

    result = step.detect_changes(db)
    assert result["versions"] == 5
    scopes = {(c["source"], c["scope"]) for c in comparisons_of(db)}
    assert ("acme-1-license", "first") in scopes and ("acme-2-license", "release") in scopes
    assert ("acme-1-license", "version") in scopes

    version_changes = changes_of(db, source_id="acme-1-license", scope="version")
    assert [(c["kind"], c["substantive"], c["effective_date"]) for c in version_changes] == [
        ("modified", True, "2024-03-01")]
    release = changes_of(db, source_id="acme-2-license", scope="release")
    assert any(c["kind"] == "removed" and "train other models" in c["old_text"] for c in release)
    assert all(c["old_version_id"] == stored[("acme-1-license", "2024-03-01")] for c in release)
    incorporated = changes_of(db, source_id="acme-2-license", scope="incorporated")
    assert [c["via_source"] for c in incorporated] == ["acme-2-use-policy"]
    assert "European Union" in incorporated[0]["new_text"] and incorporated[0]["substantive"]
    assert incorporated[0]["new_version_id"] == stored[("acme-2-use-policy", "2024-06-01")]

    rows = db["changes"].count
    assert step.detect_changes(db)["versions"] == 0            # idempotent
    assert db["changes"].count == rows
    monkeypatch.setattr(step, "detector_version", lambda: "test-next")
    assert step.detect_changes(db)["versions"] == 5            # a new detector compares again ...
    assert db["changes"].count == rows                         # ... and replaces, never duplicates


def test_detect_changes_on_corpus(corpus, tmp_path):
    """The whole pipeline on real texts: extract, analyse, store, compare releases, propagate the policy."""
    from clausewatch.crawlers.extract import extract_path
    from clausewatch.db import connect
    from clausewatch.db.comparisons import changes_of
    from clausewatch.db.documents import sync_sources
    from clausewatch.stages.detect import detect_changes
    from clausewatch.stages.process import process_versions

    db = connect(tmp_path / "cw.db")
    sync_sources(db, [_source("llama-3-license", "llama-license", "3", "2024-04-18", ["llama-3-use-policy"]),
                      _source("llama-3.1-license", "llama-license", "3.1", "2024-07-23", ["llama-3.1-use-policy"]),
                      _source("llama-3.2-license", "llama-license", "3.2", "2024-09-25", ["llama-3.2-use-policy"]),
                      _source("llama-3.1-use-policy", "llama-use-policy", "3.1", "2024-07-23"),
                      _source("llama-3.2-use-policy", "llama-use-policy", "3.2", "2024-09-25"),
                      _source("gemma-terms", "gemma-terms", "current", "2024-02-21")])
    for source_id, day, rel in [("llama-3-license", "2024-04-18", "llama-license/3.txt"),
                                ("llama-3.1-license", "2024-07-23", "llama-license/3.1.txt"),
                                ("llama-3.2-license", "2024-09-25", "llama-license/3.2.txt"),
                                ("llama-3.1-use-policy", "2024-07-23", "llama-aup/3.1.md"),
                                ("llama-3.2-use-policy", "2024-09-25", "llama-aup/3.2.md"),
                                ("gemma-terms", "2024-02-21", "gemma-terms/2024-02-21.txt"),
                                ("gemma-terms", "2025-03-24", "gemma-terms/2025-03-24.txt")]:
        _store(db, source_id, day, extract_path(corpus / rel).text)
    process_versions(db, progress=False)
    result = detect_changes(db)
    assert result["versions"] == 7

    release_31 = changes_of(db, source_id="llama-3.1-license", scope="release", substantive=True)
    assert any("improve any other large language model" in (c["old_text"] or "") for c in release_31)
    assert not changes_of(db, source_id="llama-3.2-license", scope="release", substantive=True)
    via_policy = changes_of(db, source_id="llama-3.2-license", scope="incorporated", substantive=True)
    assert any("restrict.geographic" in c["tags_added"] for c in via_policy)
    assert {c["via_source"] for c in via_policy} == {"llama-3.2-use-policy"}
    gemma = changes_of(db, source_id="gemma-terms", scope="version", substantive=True)
    assert gemma and {c["effective_date"] for c in gemma} == {"2025-03-24"}
    assert detect_changes(db)["versions"] == 0

