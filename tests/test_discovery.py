"""Discovery: a release published in a listing becomes a tracked document without editing YAML."""
from __future__ import annotations

import json
import textwrap

from clausewatch.db import connect
from tests.conftest import write_source
from tests.test_crawl import TERMS_V1, _Site, site  # noqa: F401 - the live local site fixture


def declare_discovery(directory, site_url):
    (directory / "models-discovery.yaml").write_text(textwrap.dedent(f"""
        id: models-discovery
        title: New model licences in a repository tree
        publisher: Test Publisher
        url: {site_url}/tree.json
        format: json
        schedule: "40 4 * * *"
        discover:
          items: tree
          key: path
          pattern: 'models/model(?P<version>[0-9]+(?:_[0-9]+)*)/LICENSE'
          template:
            id: "model-{{version_dotted}}-license"
            title: "Model {{version_dotted}} Licence"
            publisher: Test Publisher
            jurisdiction: global
            kind: license
            family: model-license
            version: "{{version_dotted}}"
            url: "{site_url}/{{path}}"
            format: text
            schedule: "36 5 * * *"
        """))


def test_a_new_release_in_the_listing_becomes_a_tracked_document(tmp_path, site, cli):  # noqa: F811
    sources = tmp_path / "sources"
    write_source(sources, "model-1-license", f"{site}/models/model1/LICENSE", family="model-license")
    declare_discovery(sources, site)
    tree = {"tree": [{"path": "README.md"}, {"path": "models/model1/LICENSE"}]}
    _Site.pages.update({"/tree.json": json.dumps(tree).encode(), "/models/model1/LICENSE": TERMS_V1.encode()})
    env = {"CLAUSEWATCH_SOURCES": str(sources), "CLAUSEWATCH_DB": str(tmp_path / "cw.db"),
           "CLAUSEWATCH_ALLOW_LOCAL": "1"}
    cli("crawl", "--no-process", env=env, check=True)
    db = connect(tmp_path / "cw.db")
    assert [r[0] for r in db.execute("SELECT source_id FROM sources ORDER BY id")] == ["model-1-license"]

    # a new release appears in the listing: the next discovery run tracks it, nobody edits YAML
    tree["tree"].append({"path": "models/model2_1/LICENSE"})
    _Site.pages.update({"/tree.json": json.dumps(tree).encode(),
                        "/models/model2_1/LICENSE": TERMS_V1.replace("use", "use and modify").encode()})
    out = cli("crawl", "--discovery", "models-discovery", env=env, check=True)
    assert "discovered by models-discovery: model-2.1-license" in out.stderr
    row = list(db.query("SELECT * FROM sources WHERE source_id = 'model-2.1-license'"))[0]
    assert row["discovered_from"] == "models-discovery" and row["version_label"] == "2.1"
    assert row["family"] == "model-license" and row["url"].endswith("/models/model2_1/LICENSE")
    versions = list(db.query("SELECT * FROM versions WHERE source_id = ?", [row["id"]]))
    assert len(versions) == 1 and "modify" in versions[0]["text"]
    # it is compared with the release before it in its family
    scopes = [r[0] for r in db.execute("SELECT scope FROM changes WHERE source_id = ?", [row["id"]])]
    assert "release" in scopes
    # a discovered source stays tracked by later crawls and is listed by status
    assert "model-2.1-license" in cli("status", env=env, check=True).stdout
    again = cli("crawl", "--discovery", "nope", env=env)
    assert again.returncode == 2 and "unknown discovery id(s): nope" in again.stderr
