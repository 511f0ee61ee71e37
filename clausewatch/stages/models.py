"""Models -> licences: crawl the Hugging Face model API for the declared open-weight models (one Scrapy run
in this process, like a document crawl), then link every model card to the tracked licence it names or
links, flag cards whose LICENSE text is another licence, and record the components the card declares.

Linking only reads what is stored, so it runs again after each crawl of models and after each rating
(a licence text that arrives later can confirm or contradict a card).
"""
from __future__ import annotations

import json
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from clausewatch.crawlers.hf import ModelDeclarationError, load_hf_licences, load_models
from clausewatch.db import connect
from clausewatch.db import models as store
from clausewatch.openness.models import card_licence, components, link_model, openness_level


class ModelCrawlError(RuntimeError):
    """A model crawl that cannot start (bad declaration, unknown model, bad replay folder)."""


def crawl_models(db_path: Path, *, replay_dir: Path | None = None, families: list[str] | None = None,
                 repos: list[str] | None = None, progress: bool = True, models_dir: Path | None = None
                 ) -> dict[str, Any]:
    """Fetch the Hub documents of the declared models (or of a replay folder), then link them."""
    from scrapy.crawler import CrawlerProcess

    from clausewatch.config import setting
    from clausewatch.crawlers.model_spider import ModelSpider, model_replay_map
    from clausewatch.crawlers.replay import ReplayError, ReplayServer
    from clausewatch.crawlers.settings import SettingsError, crawl_settings
    from clausewatch.stages.crawl import keep_signal_handlers

    try:
        declared = load_models(models_dir)
    except ModelDeclarationError as exc:
        raise ModelCrawlError(str(exc)) from None
    db = connect(db_path)
    store.sync_models(db, [d.as_row() for d in declared])
    known = {d.repo.lower() for d in declared}
    unknown = [r for r in repos or [] if r.lower() not in known]
    if unknown:
        raise ModelCrawlError(f"unknown model(s): {', '.join(unknown)} (declared in crawlers/models/*.yaml)")
    rows = store.model_rows(db, families=families, repos=repos)
    for row in rows:
        row["documents"] = store.documents_of(db, row["id"])
    db.close()
    replay = None
    if replay_dir is not None:
        try:
            replay = model_replay_map(Path(replay_dir))
        except ReplayError as exc:
            raise ModelCrawlError(str(exc)) from None
    overrides = {"CLAUSEWATCH_ALLOW_LOCAL": setting("allow_local", ""),
                 "ITEM_PIPELINES": {"clausewatch.crawlers.model_spider.ModelStorePipeline": 300}}
    try:
        settings = crawl_settings(db_path=str(db_path), run_id=0, replay=replay is not None, progress=progress,
                                  overrides=overrides)
    except SettingsError as exc:
        raise ModelCrawlError(str(exc)) from None
    started = time.perf_counter()
    if progress:
        where = f"replay of {replay_dir}" if replay else "Hugging Face"
        print(f"models: {len(rows)} models from {where}", file=sys.stderr, flush=True)
    with ExitStack() as stack:
        stack.enter_context(keep_signal_handlers())
        base = stack.enter_context(ReplayServer(replay)).base_url if replay else None
        process = CrawlerProcess(settings)
        process.crawl(process.create_crawler(ModelSpider), models=rows, replay_base=base)
        process.start()
    db = connect(db_path)
    linked = link_models(db, repos=[r["repo_id"] for r in rows])
    failing = [r["repo_id"] for r in store.model_rows(db, repos=[r["repo_id"] for r in rows])
               if r["status"] in ("error", "gone")]
    db.close()
    return {"models": len(rows), "failing": failing, "seconds": round(time.perf_counter() - started, 2), **linked}


def _sources(db) -> list[dict[str, Any]]:
    """Tracked licence sources with the homepage of their declaration (a card may link either address)."""
    rows = store.licence_sources(db)
    try:
        from clausewatch.crawlers.registry import load_registry

        declared = load_registry().sources
    except Exception:  # noqa: BLE001 - a broken registry only loses the homepage addresses
        declared = {}
    for row in rows:
        row["homepage"] = getattr(declared.get(row["source_id"]), "homepage", None)
    return rows


def _class_of(db, source_pk: int | None) -> str | None:
    if source_pk is None:
        return None
    row = db.execute("""SELECT r.class FROM openness_ratings r JOIN versions v ON v.id = r.version_id
                        WHERE r.source_id = ? AND r.scope = 'effective'
                        ORDER BY v.seq DESC, r.valid_from DESC, r.id DESC LIMIT 1""", [source_pk]).fetchone()
    return row[0] if row else None


def link_models(db, *, repos: list[str] | None = None) -> dict[str, int]:
    """Link every stored model card to a tracked licence; flag contradictions; record components."""
    if not db["models"].exists() or db.execute("SELECT 1 FROM models LIMIT 1").fetchone() is None:
        return {"linked": 0, "unlinked": 0, "flagged": 0}
    sources = _sources(db)
    by_id = {s["source_id"]: s for s in sources}
    texts = store.licence_texts(db)
    hf_ids = load_hf_licences()
    counts = {"linked": 0, "unlinked": 0, "flagged": 0}
    for model in store.model_rows(db, repos=repos):
        docs = store.documents_of(db, model["id"])
        api_doc = docs.get("api") or {}
        if not api_doc.get("body"):
            continue
        try:
            api = json.loads(api_doc["body"])
        except ValueError:
            continue
        licence_doc = docs.get("license") or {}
        readme = (docs.get("readme") or {}).get("body")
        result = link_model(api, licence_doc.get("body"), licence_doc.get("url"), sources, texts, hf_ids)
        card = card_licence(api)
        parts = components(api, readme)
        source = by_id.get(result.source_id) if result.source_id else None
        level, why = openness_level(parts, _class_of(db, source["id"]) if source else None)
        card_data = api.get("cardData") or {}
        base = card_data.get("base_model") or []
        store.save_link(db, model["id"], {
            "card_license": card.license, "card_license_name": card.license_name,
            "card_license_link": card.license_link, "license_tags": list(card.tags),
            "gated": str(api["gated"]) if api.get("gated") else None, "pipeline_tag": api.get("pipeline_tag"),
            "base_models": base if isinstance(base, list) else [base], "hub_sha": api.get("sha"),
            "hub_last_modified": api.get("lastModified"),
            "licence_source_id": source["id"] if source else None, "matched_by": result.matched_by,
            "match_detail": "; ".join([result.detail, *[n for n in result.notes if n not in result.detail]]),
            "license_file": licence_doc.get("url") if licence_doc.get("body") else None,
            "license_file_source_id": by_id[result.file_source_id]["id"] if result.file_source_id in by_id else None,
            "license_file_similarity": result.similarity, "flag": result.flag,
            "openness_level": level, "openness_reason": why},
            [{"component": p.component, "value": p.value, "source": p.source, "detail": p.detail or None}
             for p in parts])
        counts["linked" if source else "unlinked"] += 1
        counts["flagged"] += bool(result.flag)
    return counts
