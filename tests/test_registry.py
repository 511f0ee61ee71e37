"""The source registry: the real declarations, their replay coverage, bad declarations, discovery, the docs table."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml
from lxml import etree

from clausewatch.crawlers.registry import (
    DISCOVERY_SCHEMA,
    SOURCE_SCHEMA,
    DeclarationError,
    Discovery,
    Registry,
    load_file,
    load_registry,
)
from clausewatch.crawlers.registry_doc import current_block, render_block, update_document
from clausewatch.crawlers.replay import normalise_date, url_key
from tests.conftest import ROOT, corpus_path

FIXTURES = Path(__file__).parent / "fixtures" / "registry"
DOC = ROOT / "docs" / "sources.md"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="module")
def manifest() -> dict[str, dict]:
    path = corpus_path() / "MANIFEST.yaml"
    if not path.is_file():
        pytest.skip(f"corpus not found at {corpus_path()} (set CLAUSEWATCH_CORPUS)")
    return {entry["path"]: entry for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["files"]}


# ---------------------------------------------------------------- the real registry

def test_real_registry_is_valid_and_large_enough(registry):
    assert len(registry.sources) >= 45
    assert len(registry.discoveries) >= 1
    stems = sorted(p.stem for p in (ROOT / "crawlers" / "sources").glob("*.yaml"))
    assert stems == registry.all_ids()


def test_every_source_has_its_own_url_and_schedule(registry):
    urls = Counter(url_key(s.url) for s in registry.sources.values())
    assert [u for u, n in urls.items() if n > 1] == []
    schedules = Counter(d.schedule for d in [*registry.sources.values(), *registry.discoveries.values()])
    assert [s for s, n in schedules.items() if n > 1] == [], "spread the minutes: these fire together"


def test_incorporated_documents_are_declared_use_policies(registry):
    pairs = [(s, registry.sources.get(ref)) for s in registry.sources.values() for ref in s.incorporates]
    assert pairs, "licences that incorporate a use policy must say so"
    for source, target in pairs:
        assert target is not None, f"{source.id} incorporates an undeclared source"
        assert source.kind == "license" and target.kind == "use-policy", (source.id, target.id)


def test_llama_releases_follow_the_discovery_naming(registry):
    for version in ["2", "3", "3.1", "3.2", "3.3", "4"]:
        licence = registry.sources[f"llama-{version}-license"]
        assert licence.family == "llama-license" and licence.version == version
        assert licence.incorporates == (f"llama-{version}-use-policy",)
        policy = registry.sources[f"llama-{version}-use-policy"]
        assert policy.family == "llama-use-policy" and policy.version == version


def test_releases_of_one_family_share_its_kind(registry):
    kinds: dict[str, set[str]] = {}
    for source in registry.sources.values():
        kinds.setdefault(source.family, set()).add(source.kind)
    assert {f: k for f, k in kinds.items() if len(k) > 1} == {}


def _formex_parts(index: Path) -> set[Path]:
    """Files a Formex package index refers to (its parts and its table of contents), resolved beside it."""
    tree = etree.parse(str(index))
    names = {el.get("FILE") for el in tree.iter("REF.PHYS", "PUBLICATION.REF") if el.get("FILE")}
    return {index.parent / name for name in names}


def test_every_corpus_file_is_covered_exactly_once(registry, manifest):
    corpus = corpus_path()
    named = Counter(path for s in registry.sources.values() for path in s.replay)
    named.update(path for d in registry.discoveries.values() for path in d.replay)
    assert [p for p, n in named.items() if n > 1] == [], "a corpus file belongs to one source"
    parts: set[str] = set()
    for source in registry.sources.values():
        if source.format == "xml":
            for rel in source.replay:
                parts |= {p.relative_to(corpus).as_posix() for p in _formex_parts(corpus / rel)}
    assert parts, "the Formex package index names its parts"
    assert parts <= set(manifest), "every Formex part is a corpus file"
    uncovered = sorted(set(manifest) - set(named) - parts)
    assert uncovered == []
    assert not parts & set(named), "parts are fetched beside the index, not declared"


def test_every_replay_path_is_a_dated_corpus_file(registry, manifest):
    corpus = corpus_path()
    for source in registry.sources.values():
        for rel in source.replay:
            assert (corpus / rel).is_file(), f"{source.id}: {rel} is not in the corpus"
            assert rel in manifest, f"{source.id}: {rel} is not in MANIFEST.yaml"


def test_replay_lists_are_in_serving_order(registry, manifest):
    """The replay server orders a source's files by MANIFEST date, then file name: declare them so."""
    for source in registry.sources.values():
        order = sorted(source.replay, key=lambda rel: (normalise_date(manifest[rel]["date"]), Path(rel).name))
        assert list(source.replay) == order, source.id


def test_corpus_versions_of_one_url_share_one_source(registry, manifest):
    by_source = {rel: s.id for s in registry.sources.values() for rel in s.replay}
    assert by_source["gemma-terms/2024-02-21.txt"] == by_source["gemma-terms/2025-03-24.txt"] == "gemma-terms"
    assert by_source["us-eo-14110/2023-10-30-whitehouse-gov.md"] == \
        by_source["us-eo-14110/2025-02-05-bidenwhitehouse-archive.md"]
    assert by_source["llama-license/3.txt"] != by_source["llama-license/3-llama3-repo.txt"]
    assert by_source["deepseek-license/1.0.txt"] != by_source["deepseek-license/1.0-deepseek-llm.txt"]


# ---------------------------------------------------------------- bad declarations

GOOD = {
    "id": "example-license", "title": "Example License", "publisher": "Example Org", "jurisdiction": "global",
    "kind": "license", "family": "example-license", "version": "1.0", "url": "https://example.org/license.txt",
    "format": "text", "schedule": "7 5 * * *",
}


def write(directory: Path, data: object, name: str | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stem = name or (data.get("id") if isinstance(data, dict) else "bad")
    path = directory / f"{stem}.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_a_good_declaration_loads(tmp_path):
    source = load_file(write(tmp_path, GOOD))
    assert source.id == "example-license" and source.declared_in.endswith("example-license.yaml")


@pytest.mark.parametrize("change, field", [
    ({"url": None}, "url"),
    ({"kind": "licence"}, "kind"),
    ({"url": "ftp://example.org/license"}, "url"),
    ({"url": "not a url"}, "url"),
    ({"schedule": "daily"}, "schedule"),
    ({"schedule": "61 5 * * *"}, "schedule"),
    ({"schedule": "0 4 * * 1"}, "schedule"),
    ({"jurisdiction": "California"}, "jurisdiction"),
    ({"format": "docx"}, "format"),
    ({"date": "13 June 2024"}, "date"),
    ({"version": 3.1}, "version"),
    ({"selectors": {"keep": []}}, "selectors.keep"),
    ({"shedule": "0 4 * * *"}, "shedule"),
])
def test_bad_fields_are_named(tmp_path, change, field):
    data = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    path = write(tmp_path, data)
    with pytest.raises(DeclarationError) as err:
        load_registry(tmp_path)
    message = str(err.value)
    assert str(path) in message and field in message and "\n" not in message


def test_id_must_match_the_file_name(tmp_path):
    path = write(tmp_path, GOOD, name="other-name")
    with pytest.raises(DeclarationError, match=r"field 'id' \('example-license'\) must match the file name") as err:
        load_registry(tmp_path)
    assert str(path) in str(err.value)


def test_unknown_incorporates_target_is_named(tmp_path):
    path = write(tmp_path, {**GOOD, "incorporates": ["example-use-policy"]})
    with pytest.raises(DeclarationError, match="field 'incorporates' names unknown source 'example-use-policy'") as err:
        load_registry(tmp_path)
    assert str(path) in str(err.value)


def test_renditions_share_a_document_id(tmp_path):
    html = {**GOOD, "id": "example-act-html", "format": "html", "document": "example-act"}
    pdf = {**GOOD, "id": "example-act-pdf", "url": "https://example.org/act.pdf", "format": "pdf",
           "document": "example-act"}
    write(tmp_path, html)
    write(tmp_path, pdf)
    registry = load_registry(tmp_path)
    assert {s.document for s in registry.sources.values()} == {"example-act"}
    assert registry.sources["example-act-pdf"].as_row()["document"] == "example-act"


@pytest.mark.parametrize("other, message", [
    (None, "names no other rendition"),
    ({"family": "another-family"}, "must share a family"),
])
def test_bad_rendition_declarations_are_named(tmp_path, other, message):
    path = write(tmp_path, {**GOOD, "id": "example-act-html", "document": "example-act"})
    if other is not None:
        write(tmp_path, {**GOOD, "id": "example-act-pdf", "url": "https://example.org/act.pdf", "document": "example-act",
                         **other})
    with pytest.raises(DeclarationError, match=message) as err:
        load_registry(tmp_path)
    assert ".yaml" in str(err.value) and "\n" not in str(err.value)
    assert other is not None or str(path) in str(err.value)


def test_the_ai_act_renditions_are_one_document(registry):
    renditions = {s.id for s in registry.sources.values() if s.document == "eu-ai-act-2024-1689"}
    assert renditions == {"eu-ai-act-html", "eu-ai-act-pdf", "eu-ai-act-formex"}


def test_invalid_yaml_names_the_file_and_the_line(tmp_path):
    path = write(tmp_path, "id: example-license\ntitle: Example: License\n", name="example-license")
    with pytest.raises(DeclarationError, match="not valid YAML at line 2") as err:
        load_registry(tmp_path)
    assert str(path) in str(err.value)


def test_a_declaration_must_be_a_mapping(tmp_path):
    write(tmp_path, "- id: example-license\n", name="example-license")
    with pytest.raises(DeclarationError, match="must be a YAML mapping"):
        load_registry(tmp_path)


def discovery(**template_changes: str) -> dict:
    template = {"id": "example-{version_dotted}-license", "title": "Example {version}", "publisher": "Example Org",
                "jurisdiction": "global", "kind": "license", "family": "example-license",
                "version": "{version_dotted}", "url": "https://example.org/{path}", "format": "text",
                **template_changes}
    return {"id": "example-discovery", "title": "Example listing", "publisher": "Example Org",
            "url": "https://example.org/tree.json", "schedule": "9 5 * * *",
            "discover": {"items": "tree", "pattern": r"v(?P<version>[0-9_]+)/LICENSE", "template": template}}


def test_duplicate_ids_name_both_files(tmp_path):
    write(tmp_path, GOOD)
    second = write(tmp_path, {**discovery(), "id": "example-license"}, name="example-license-discovery")
    with pytest.raises(DeclarationError, match=r"field 'id' \('example-license'\) is declared twice") as err:
        load_registry(tmp_path)
    message = str(err.value)
    assert str(second) in message and str(tmp_path / "example-license.yaml") in message


def test_discovery_template_errors_are_found_at_load_time(tmp_path):
    path = write(tmp_path, discovery(id="example-{release}-license"))
    with pytest.raises(DeclarationError, match=r"discover.template.id' uses \{release\}") as err:
        load_file(path)
    assert str(path) in str(err.value)
    path = write(tmp_path, discovery(kind="licence"))
    with pytest.raises(DeclarationError, match="discover.template gives an invalid declaration: field 'kind'"):
        load_file(path)
    bad_regex = discovery()
    bad_regex["discover"]["pattern"] = "v(?P<version"
    with pytest.raises(DeclarationError, match="discover.pattern"):
        load_file(write(tmp_path, bad_regex))
    missing = discovery()
    del missing["discover"]["template"]["url"]
    with pytest.raises(DeclarationError, match="field 'url' is required"):
        load_file(write(tmp_path, missing))


def test_missing_source_folder_is_a_clear_error(tmp_path):
    with pytest.raises(DeclarationError, match="source directory not found"):
        load_registry(tmp_path / "nowhere")


# ---------------------------------------------------------------- discovery on a listing

@pytest.fixture(scope="module")
def listing() -> dict:
    return json.loads((FIXTURES / "llama-models-tree.json").read_text(encoding="utf-8"))


def test_new_llama_release_is_discovered(registry, listing):
    found = {s.id: s for d in registry.discoveries.values() for s in d.sources_from_listing(listing)}
    licence = found["llama-5-license"]
    assert licence.url == "https://raw.githubusercontent.com/meta-llama/llama-models/main/models/llama5/LICENSE"
    assert (licence.family, licence.version, licence.kind, licence.format) == ("llama-license", "5", "license", "text")
    assert licence.incorporates == ("llama-5-use-policy",)
    assert licence.discovered_from == "llama-models-discovery"
    policy = found["llama-5-use-policy"]
    assert policy.url.endswith("/models/llama5/USE_POLICY.md") and policy.kind == "use-policy"


def test_known_llama_releases_map_to_their_declarations(registry, listing):
    found = [s for d in registry.discoveries.values() for s in d.sources_from_listing(listing)]
    known = [s for s in found if s.id in registry.sources]
    assert len(known) == 12
    for source in known:
        assert source.url == registry.sources[source.id].url, source.id
    new = sorted(s.id for s in found if s.id not in registry.sources)
    assert new == ["llama-5-license", "llama-5-use-policy"]


def test_discovery_ignores_entries_that_do_not_match(tmp_path):
    disc = load_file(write(tmp_path, discovery()))
    assert isinstance(disc, Discovery)
    listing = {"tree": [{"path": "v2_1/LICENSE"}, {"path": "v2_1/LICENSE.old"}, {"path": "x/v3/LICENSE"},
                        {"size": 3}, "v9/LICENSE"]}
    found = disc.sources_from_listing(listing)
    assert [s.id for s in found] == ["example-2.1-license", "example-9-license"]  # plain strings match directly
    assert [s.version for s in found] == ["2.1", "9"]
    assert disc.sources_from_listing({"tree": "not a list"}) == []
    assert disc.sources_from_listing({"other": []}) == []


# ---------------------------------------------------------------- docs/sources.md

def test_docs_table_is_up_to_date(registry):
    document = DOC.read_text(encoding="utf-8")
    assert current_block(document) == render_block(registry), \
        "run: python -m clausewatch.crawlers.registry_doc --write docs/sources.md"
    for source_id in registry.all_ids():
        assert f"`{source_id}`" in document


def test_every_declaration_field_is_documented():
    document = DOC.read_text(encoding="utf-8")
    fields = {*SOURCE_SCHEMA["properties"], *DISCOVERY_SCHEMA["properties"]}
    fields |= {f"discover.{k}" for k in DISCOVERY_SCHEMA["properties"]["discover"]["properties"]}
    assert sorted(f for f in fields if f"`{f}`" not in document) == []


def test_doc_command_checks_and_rewrites(tmp_path, registry):
    stale = tmp_path / "sources.md"
    stale.write_text(update_document(DOC.read_text(encoding="utf-8"), registry).replace("| `apache-2.0` |", "| `x` |"))
    command = [sys.executable, "-m", "clausewatch.crawlers.registry_doc"]
    check = subprocess.run([*command, "--check", str(stale)], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 1 and "out of date" in check.stderr
    subprocess.run([*command, "--write", str(stale)], cwd=ROOT, check=True, capture_output=True)
    assert current_block(stale.read_text()) == render_block(registry)
    printed = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    assert "| `llama-3.1-license` | license | global | llama-license | 3.1 |" in printed
