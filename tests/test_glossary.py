"""Plain names: the glossary's tag ids, entity types and definitions are the taxonomy's (checked against
../shared/taxonomy.yaml when it is present, CLAUSEWATCH_TAXONOMY overrides), its labels are ours; the public
database holds it as the ``glossary`` table the site reads."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from clausewatch import db as store
from clausewatch.db.glossary import ENTITY_TYPES, TAG_GROUPS, TAGS, glossary_rows, publish_glossary
from clausewatch.db.publish import publish
from tests.conftest import ROOT
from tests.test_taxonomy_coverage import V1_ENTITIES, V1_TAGS

TAXONOMY = Path(os.environ.get("CLAUSEWATCH_TAXONOMY", ROOT.parent / "shared" / "taxonomy.yaml"))


def taxonomy() -> dict | None:
    return yaml.safe_load(TAXONOMY.read_text()) if TAXONOMY.is_file() else None


def test_every_taxonomy_tag_and_entity_type_has_a_label_and_its_definition():
    data = taxonomy()
    tags = set(data["tags"]) if data else set(V1_TAGS)
    entities = set(data["entities"]) if data else set(V1_ENTITIES)
    assert set(TAGS) == tags and set(ENTITY_TYPES) == entities
    if data is None:
        pytest.skip(f"{TAXONOMY} not found: ids checked against the v1 copy, definitions not checked")
    for tag, (_, definition) in TAGS.items():
        assert definition == data["tags"][tag]["definition"], tag
    for entity, (_, _, value) in ENTITY_TYPES.items():
        assert value == data["entities"][entity]["value"], entity


def test_labels_are_plain_short_and_distinct():
    labels = [label for label, _ in TAGS.values()]
    assert len(set(labels)) == len(labels)
    for tag, (label, _) in TAGS.items():
        assert label and label != tag and "." not in label.split(" (")[0] and len(label) <= 60, tag
    assert set(TAG_GROUPS) == {t.split(".")[0] for t in TAGS}
    terms = [r["term"] for r in glossary_rows()]
    assert len(set(terms)) == len(terms)


def test_publish_writes_the_glossary_table_once(tmp_path):
    db = store.connect(tmp_path / "g.db")
    rows = list(db.query("SELECT term, label, definition FROM glossary"))
    assert {r["term"] for r in rows} >= set(TAGS) | set(ENTITY_TYPES)
    assert publish(db)["tables"] == [] and publish_glossary(db) is False
    db.execute("UPDATE glossary SET label = 'stale' WHERE term = 'restrict.output_use'")
    assert publish(db)["tables"] == ["glossary"]
    assert db.execute("SELECT label FROM glossary WHERE term = 'restrict.output_use'").fetchone()[0] == \
        TAGS["restrict.output_use"][0]
