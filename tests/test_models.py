"""Models -> licences: the declared list, the Hub crawl (real Scrapy over HTTP on 127.0.0.1 against saved API
answers written for these tests, tests/fixtures/huggingface), linking cards to tracked licences, the flag for
a card whose LICENSE is another licence, component facts and the openness spectrum."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from clausewatch.crawlers.hf import (
    ModelDeclarationError,
    follow_ups,
    licence_file_url,
    load_hf_licences,
    load_models,
    replay_url,
)
from clausewatch.crawlers.registry import load_registry
from clausewatch.db import connect
from clausewatch.openness.models import (
    card_licence,
    compare_texts,
    components,
    link_model,
    named_source,
    normalise_url,
    openness_level,
)
from tests.conftest import ROOT, run_cli

FIXTURES = ROOT / "tests" / "fixtures" / "huggingface"
FAMILIES = {"llama", "gemma", "qwen", "deepseek", "mistral", "phi", "gpt-oss", "falcon", "olmo", "pythia", "smollm",
            "nemotron", "bloom", "grok", "openelm"}


def api_of(repo: str) -> dict:
    return json.loads((FIXTURES / "huggingface.co" / "api" / "models" / f"{repo}.json").read_text())


# ------------------------------------------------------------------ declarations

def test_at_least_fifty_models_of_every_tracked_family_each_with_a_saved_answer():
    models = load_models()
    assert len(models) >= 50
    assert FAMILIES <= {m.family for m in models}
    for m in models:
        assert (FIXTURES / "huggingface.co" / "api" / "models" / f"{m.repo}.json").is_file(), m.repo
        assert api_of(m.repo)["id"] == m.repo


def test_every_hub_licence_id_names_a_declared_source():
    declared = load_registry().sources
    for hub_id, source_id in load_hf_licences().items():
        assert source_id in declared and declared[source_id].kind == "license", hub_id


@pytest.mark.parametrize("text, message", [
    ("family: acme\npublisher: Acme\nmodels:\n  - repo: acme/a\n  - repo: ACME/a\n", "declared twice"),
    ("family: acme\npublisher: Acme\nmodels:\n  - repo: not-a-repo-id\n", "models.0.repo"),
    ("family: acme\npublisher: Acme\nmodels:\n  - repo: acme/a\n    licence: mit\n", "Additional properties"),
    ("family: acme\nmodels: []\n", "publisher"),
])
def test_a_bad_declaration_is_one_line(tmp_path, text, message):
    (tmp_path / "acme.yaml").write_text(text)
    with pytest.raises(ModelDeclarationError, match=message) as err:
        load_models(tmp_path)
    assert "acme.yaml" in str(err.value) and "\n" not in str(err.value)


# ------------------------------------------------------------------ the card's licence fields

def test_card_licence_fields_and_the_licence_they_name():
    card = card_licence(api_of("mistralai/Codestral-22B-v0.1"))
    assert (card.license, card.license_name, card.named) == ("other", "mnpl", "mnpl")
    assert card.license_link == "https://mistral.ai/licences/MNPL-0.1.md"
    assert card_licence(api_of("meta-llama/Llama-3.1-8B")).tags == ("llama3.1",)
    sources = [{"source_id": "mistral-non-production-license", "spdx": None},
               {"source_id": "apache-2.0", "spdx": "Apache-2.0"}]
    hub = {"mnpl": "mistral-non-production-license"}
    assert named_source(card, sources, hub).matched_by == "license_name"
    apache = card_licence(api_of("mistralai/Mistral-7B-v0.1"))
    assert named_source(apache, sources, {}).source_id == "apache-2.0"        # by its SPDX id
    grok = named_source(card_licence(api_of("xai-org/grok-2")), sources, hub)
    assert grok.source_id is None and "'grok-2' is not a tracked licence" in grok.detail


@pytest.mark.parametrize("url, same_as", [
    ("https://github.com/QwenLM/Qwen/blob/main/Tongyi%20Qianwen%20LICENSE%20AGREEMENT",
     "https://raw.githubusercontent.com/QwenLM/Qwen/main/Tongyi%20Qianwen%20LICENSE%20AGREEMENT"),
    ("https://huggingface.co/microsoft/phi-4/resolve/main/LICENSE", "https://huggingface.co/microsoft/phi-4/raw/main/LICENSE"),
    ("http://www.apache.org/licenses/LICENSE-2.0/", "https://www.apache.org/licenses/LICENSE-2.0"),
])
def test_links_are_compared_as_the_documents_they_name(url, same_as):
    assert normalise_url(url) == normalise_url(same_as)


def test_which_licence_file_a_card_links():
    assert licence_file_url("deepseek-ai/DeepSeek-V3", api_of("deepseek-ai/DeepSeek-V3")) == \
        "https://huggingface.co/deepseek-ai/DeepSeek-V3/raw/main/LICENSE-MODEL"          # relative license_link
    assert licence_file_url("microsoft/phi-4", api_of("microsoft/phi-4")) == \
        "https://huggingface.co/microsoft/phi-4/raw/main/LICENSE"                         # a Hub link into the repo
    assert licence_file_url("tiiuae/falcon-180B", api_of("tiiuae/falcon-180B")).endswith("/raw/main/LICENSE.txt")
    assert licence_file_url("google/gemma-2b", api_of("google/gemma-2b")) is None           # no LICENSE file
    kinds = [k for k, _ in follow_ups("meta-llama/Llama-3.1-8B", api_of("meta-llama/Llama-3.1-8B"))]
    assert kinds == ["license", "readme"]
    assert replay_url("huggingface.co/api/models/openai/gpt-oss-20b.json") == "https://huggingface.co/api/models/openai/gpt-oss-20b"


# ------------------------------------------------------------------ LICENSE texts

PERMISSIVE = ("Permission is granted to any person who receives a copy of this work to use it, to copy it, to change "
              "it and to give it to others, for any purpose, provided that this notice is kept with every copy and "
              "that no one claims the work as their own. The work comes with no warranty of any kind.")
COMMUNITY = ("You may use the model and its outputs inside your own organisation. You may not offer the model as a "
             "service to others, and you may not use its outputs to train any other model. If your products have "
             "more than ten million users you must ask the publisher for another licence. These terms may change.")


def test_a_licence_file_is_the_tracked_licence_it_holds():
    texts = {"permissive": PERMISSIVE, "community": COMMUNITY}
    best = compare_texts("Copyright 2025 Example Labs\n\n" + PERMISSIVE, texts)[0]
    assert best.source_id == "permissive" and best.is_match
    reflowed = " \n ".join(COMMUNITY.upper().split(". "))
    assert compare_texts(reflowed, texts)[0].source_id == "community"
    edited = COMMUNITY.replace("ten million", "fifty million").replace("These terms may change.", "")
    assert not compare_texts(edited + " You must also credit the publisher.", {"community": COMMUNITY})[0].is_match


def test_a_card_that_names_one_licence_and_links_another_is_flagged():
    sources = [{"source_id": "permissive", "spdx": "MIT", "family": "mit", "version_label": "1", "url": "https://x.example/p"},
               {"source_id": "community", "spdx": None, "family": "acme", "version_label": "1", "url": "https://x.example/c"}]
    texts = {"permissive": PERMISSIVE, "community": COMMUNITY}
    api = {"cardData": {"license": "mit"}, "siblings": [{"rfilename": "LICENSE"}]}
    ok = link_model(api, PERMISSIVE, "https://huggingface.co/a/b/raw/main/LICENSE", sources, texts, {})
    assert ok.source_id == "permissive" and ok.flag is None and ok.similarity == 1.0
    wrong = link_model(api, COMMUNITY, "https://huggingface.co/a/b/raw/main/LICENSE", sources, texts, {})
    assert wrong.source_id == "community" and wrong.matched_by == "license_text"
    assert "names permissive" in wrong.flag and "is community" in wrong.flag
    neither = link_model(api, "A licence of its own that no tracker knows, with terms nobody has seen before today.",
                         "https://huggingface.co/a/b/raw/main/LICENSE", sources, texts, {})
    assert neither.source_id == "permissive" and "is not that licence" in neither.flag
    unread = link_model(api, None, None, sources, texts, {})
    assert unread.source_id == "permissive" and unread.flag is None       # nothing to compare: no flag, no guess


# ------------------------------------------------------------------ components and the spectrum

def test_components_are_what_the_card_declares():
    api = api_of("allenai/OLMo-2-1124-7B")
    readme = (FIXTURES / "huggingface.co/allenai/OLMo-2-1124-7B/raw/main/README.md").read_text()
    parts = components(api, readme)
    by = {}
    for p in parts:
        by.setdefault(p.component, []).append(p)
    assert by["weights"][0].value == "published" and "safetensors" in by["weights"][0].detail
    assert [p.value for p in by["data"]] == ["allenai/olmo-mix-1124"] and by["data"][0].source == "cardData.datasets"
    assert "https://github.com/allenai/OLMo" in [p.value for p in by["code"]]
    assert openness_level(parts, "open")[0] == "fully open"
    assert openness_level(parts, "restricted")[0] == "open weights"
    assert openness_level(components(api), "open")[0] == "open source"   # no README read: no code claimed
    grok = components(api_of("xai-org/grok-1"))
    assert grok[0].value == "published" and "checkpoint shards" in grok[0].detail
    assert openness_level([], "open")[0] == "unknown"
    gated = components(api_of("meta-llama/Llama-3.1-8B"))[0]
    assert "gated (manual approval)" in gated.detail


# ------------------------------------------------------------------ the crawl, end to end

@pytest.fixture(scope="module")
def crawled(corpus, tmp_path_factory):
    """The corpus replayed, then the model crawl over the saved Hub answers plus LICENSE files made from corpus
    texts at test time, and one fine-tune (declared here) whose card says apache-2.0 over a Llama licence."""
    tmp = tmp_path_factory.mktemp("models")
    hub = tmp / "hub"
    shutil.copytree(FIXTURES, hub)
    manifest = yaml.safe_load((hub / "MANIFEST.yaml").read_text())
    extra = {"huggingface.co/meta-llama/Llama-3.1-8B/raw/main/LICENSE": corpus / "llama-license" / "3.1.txt",
             "huggingface.co/microsoft/phi-2/raw/main/LICENSE": corpus / "mit" / "mit-microsoft-phi.txt",
             "huggingface.co/acme-labs/llama-3.1-8b-chat-tuned/raw/main/LICENSE": corpus / "llama-license" / "3.1.txt"}
    for rel, src in extra.items():
        (hub / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, hub / rel)
        manifest["files"].append({"path": rel, "date": "2025-01-01"})
    tuned = {**api_of("meta-llama/Llama-3.1-8B"), "id": "acme-labs/llama-3.1-8b-chat-tuned", "gated": False,
             "cardData": {"license": "apache-2.0", "base_model": "meta-llama/Llama-3.1-8B"},
             "tags": ["transformers", "llama", "license:apache-2.0", "base_model:meta-llama/Llama-3.1-8B"]}
    rel = "huggingface.co/api/models/acme-labs/llama-3.1-8b-chat-tuned.json"
    (hub / rel).parent.mkdir(parents=True, exist_ok=True)
    (hub / rel).write_text(json.dumps(tuned))
    manifest["files"].append({"path": rel, "date": "2025-01-01"})
    (hub / "MANIFEST.yaml").write_text(yaml.safe_dump(manifest))
    declarations = tmp / "models"
    shutil.copytree(ROOT / "crawlers" / "models", declarations)
    (declarations / "acme.yaml").write_text("family: acme\npublisher: Acme Labs\nmodels:\n"
                                            "  - repo: acme-labs/llama-3.1-8b-chat-tuned\n    title: A fine-tune\n")
    env = {"CLAUSEWATCH_DB": str(tmp / "cw.db"), "CLAUSEWATCH_CONFIG": str(tmp / "none.toml"),
           "CLAUSEWATCH_MODELS": str(declarations)}
    run_cli("crawl", "--replay", str(corpus), "--quiet", env=env, check=True)
    first = run_cli("models", "crawl", "--replay", str(hub), env=env, check=True)
    second = run_cli("models", "crawl", "--replay", str(hub), "--quiet", env=env, check=True)
    return {"db": connect(tmp / "cw.db"), "env": env, "first": first, "second": second, "hub": hub}


def model(db, repo: str) -> dict:
    rows = list(db.query("SELECT * FROM model_licences WHERE repo_id = ?", [repo]))
    assert rows, repo
    return rows[0]


@pytest.mark.slow
def test_every_declared_model_is_fetched_and_most_link_to_a_tracked_licence(crawled):
    db = crawled["db"]
    rows = list(db.query("SELECT * FROM model_licences"))
    assert len(rows) == len(load_models()) + 1
    assert all(r["status"] == "ok" for r in rows)
    unlinked = {r["repo_id"] for r in rows if r["licence"] is None}
    assert unlinked == {"xai-org/grok-2", "Qwen/Qwen2.5-3B-Instruct"}    # licences the tracker does not hold
    assert model(db, "meta-llama/Llama-3.1-8B")["licence"] == "llama-3.1-license"
    assert model(db, "mistralai/Codestral-22B-v0.1")["licence"] == "mistral-non-production-license"
    assert model(db, "microsoft/phi-4")["matched_by"] == "license_link"
    assert model(db, "tiiuae/falcon-180B")["matched_by"] == "repo_license_file"
    assert model(db, "Qwen/Qwen-7B")["licence"] == "qwen-tongyi-qianwen-license"
    assert f"{len(rows) - 2} linked to a tracked licence, 2 not, 1 flagged" in crawled["first"].stderr


@pytest.mark.slow
def test_a_licence_text_confirms_or_contradicts_the_card(crawled):
    db = crawled["db"]
    llama = model(db, "meta-llama/Llama-3.1-8B")
    assert llama["flag"] is None and "the LICENSE text is that licence" in llama["match_detail"]
    phi = model(db, "microsoft/phi-2")
    assert phi["licence"] == "mit-license" and phi["flag"] is None
    tuned = model(db, "acme-labs/llama-3.1-8b-chat-tuned")
    assert tuned["licence"] == "llama-3.1-license" and tuned["matched_by"] == "license_text"
    assert "names apache-2.0" in tuned["flag"] and "llama-3.1-license" in tuned["flag"]
    assert tuned["class"] == "restricted"
    flagged = run_cli("models", "--flagged", "--format", "json", env=crawled["env"], check=True)
    assert [r["repo_id"] for r in json.loads(flagged.stdout)] == ["acme-labs/llama-3.1-8b-chat-tuned"]


@pytest.mark.slow
def test_which_models_are_under_a_licence_with_an_output_restriction(crawled):
    db = crawled["db"]
    proc = run_cli("models", "--fails", "no_output_restriction", "--format", "json", env=crawled["env"], check=True)
    found = {r["repo_id"] for r in json.loads(proc.stdout)}
    assert {"meta-llama/Meta-Llama-3-8B", "meta-llama/Llama-2-7b-hf", "Qwen/Qwen-7B",
            "deepseek-ai/deepseek-llm-7b-base"} <= found
    assert not found & {"meta-llama/Llama-3.1-8B", "openai/gpt-oss-20b", "allenai/OLMo-7B"}
    same = {r["repo_id"] for r in db.query("""SELECT repo_id FROM model_criteria
                                              WHERE criterion = 'no_output_restriction' AND verdict = 'fail'""")}
    assert same == found
    table = run_cli("models", "--family", "llama", env=crawled["env"], check=True).stdout
    assert "meta-llama/Llama-3.3-70B-Instruct" in table and "restricted" in table


@pytest.mark.slow
def test_components_and_the_spectrum_per_model(crawled):
    db = crawled["db"]
    olmo = model(db, "allenai/OLMo-2-1124-7B")
    assert olmo["openness_level"] == "fully open" and olmo["datasets"] == "allenai/olmo-mix-1124"
    assert "https://github.com/allenai/OLMo" in olmo["code"]
    assert model(db, "openai/gpt-oss-20b")["openness_level"] == "open source"
    assert model(db, "google/gemma-2b")["openness_level"] == "open weights"
    sources = {r[0] for r in db.execute("SELECT DISTINCT source FROM model_components")}
    assert sources <= {"hub:siblings", "cardData.datasets", "hub:tags", "README"}


@pytest.mark.slow
def test_a_second_crawl_asks_conditionally_and_keeps_everything(crawled):
    db = crawled["db"]
    docs = list(db.query("SELECT * FROM model_documents WHERE kind = 'api'"))
    assert docs and all(d["http_status"] == 304 and d["body"] for d in docs)
    assert db.execute("SELECT count(*) FROM models WHERE flag IS NOT NULL").fetchone()[0] == 1


@pytest.mark.slow
def test_the_site_answers_the_models_query(crawled):
    import asyncio

    from clausewatch.web.datasette_app import build_datasette

    ds = build_datasette(Path(crawled["env"]["CLAUSEWATCH_DB"]))
    loop = asyncio.new_event_loop()
    loop.run_until_complete(ds.invoke_startup())
    resp = loop.run_until_complete(ds.client.get(
        "/clausewatch/models_under_licence_with.json?criterion=no_output_restriction&verdict=fail&_shape=array"))
    assert resp.status_code == 200
    assert "Qwen/Qwen-7B" in {r["repo_id"] for r in resp.json()}
    assert loop.run_until_complete(ds.client.get("/clausewatch/model_licences")).status_code == 200


@pytest.mark.parametrize("args, message", [
    (["models", "crawl", "--model", "nobody/nothing"], "unknown model(s): nobody/nothing"),
    (["models", "crawl", "--replay", "/nonexistent"], "not a replay folder"),
    (["models", "--fails", "freedom_zero"], "is not a criterion"),
])
def test_model_command_errors_are_one_line(tmp_path, args, message):
    proc = run_cli(*args, env={"CLAUSEWATCH_DB": str(tmp_path / "cw.db"), "CLAUSEWATCH_CONFIG": str(tmp_path / "x")})
    assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
