"""Schema of the public and private databases, as sqlite-utils migrations.

Migrations are append-only: never edit one that has shipped; add a new function instead.
Applied migrations are recorded in ``_sqlite_migrations``.
"""
from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

public = Migrations("clausewatch")
private = Migrations("clausewatch-private")


@public()
def m001_spine(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            source_id TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL,
            publisher TEXT,
            jurisdiction TEXT,
            kind TEXT,
            family TEXT,
            version_label TEXT,
            release_date TEXT,
            url TEXT NOT NULL,
            format TEXT,
            selectors TEXT,
            incorporates TEXT,
            schedule TEXT,
            spdx TEXT,
            declared_in TEXT,
            discovered_from TEXT,
            notes TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL DEFAULT 'new',
            etag TEXT,
            last_modified TEXT,
            raw_sha256 TEXT,
            replay_as_of TEXT,
            last_fetch_at TEXT,
            last_success_at TEXT,
            last_change_at TEXT,
            last_error TEXT,
            last_error_at TEXT,
            consecutive_failures INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX idx_sources_family ON sources(family);

        CREATE TABLE crawl_runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            mode TEXT NOT NULL,
            as_of TEXT,
            corpus TEXT,
            pid INTEGER,
            sources INTEGER NOT NULL DEFAULT 0,
            requests INTEGER NOT NULL DEFAULT 0,
            not_modified INTEGER NOT NULL DEFAULT 0,
            unchanged INTEGER NOT NULL DEFAULT 0,
            new_versions INTEGER NOT NULL DEFAULT 0,
            technical INTEGER NOT NULL DEFAULT 0,
            held INTEGER NOT NULL DEFAULT 0,
            errors INTEGER NOT NULL DEFAULT 0,
            discovered INTEGER NOT NULL DEFAULT 0,
            bytes INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'running',
            error TEXT
        );

        CREATE TABLE snapshots (
            id INTEGER PRIMARY KEY,
            sha256 TEXT NOT NULL UNIQUE,
            size INTEGER NOT NULL,
            compression TEXT NOT NULL,
            content BLOB NOT NULL,
            content_type TEXT,
            first_seen_at TEXT NOT NULL
        );

        CREATE TABLE versions (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES sources(id),
            seq INTEGER NOT NULL,
            fetched_at TEXT NOT NULL,
            valid_from TEXT NOT NULL,
            title TEXT,
            text TEXT NOT NULL,
            text_sha256 TEXT NOT NULL,
            chars INTEGER NOT NULL,
            extractor_version TEXT NOT NULL,
            technical INTEGER NOT NULL DEFAULT 0,
            previous_id INTEGER REFERENCES versions(id),
            pipeline_version TEXT,
            processed_at TEXT,
            UNIQUE (source_id, seq)
        );
        CREATE INDEX idx_versions_source ON versions(source_id, valid_from);

        CREATE TABLE version_snapshots (
            id INTEGER PRIMARY KEY,
            version_id INTEGER NOT NULL REFERENCES versions(id),
            snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
            part TEXT,
            ordinal INTEGER NOT NULL,
            UNIQUE (version_id, ordinal)
        );

        CREATE TABLE fetches (
            id INTEGER PRIMARY KEY,
            run_id INTEGER REFERENCES crawl_runs(id),
            source_id INTEGER NOT NULL REFERENCES sources(id),
            url TEXT NOT NULL,
            final_url TEXT,
            part TEXT,
            requested_at TEXT NOT NULL,
            as_of TEXT,
            http_status INTEGER,
            etag TEXT,
            last_modified TEXT,
            content_type TEXT,
            bytes INTEGER,
            duration_ms INTEGER,
            outcome TEXT NOT NULL,
            error TEXT,
            snapshot_id INTEGER REFERENCES snapshots(id),
            version_id INTEGER REFERENCES versions(id)
        );
        CREATE INDEX idx_fetches_source ON fetches(source_id, requested_at);

        CREATE TABLE held_versions (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES sources(id),
            fetch_id INTEGER REFERENCES fetches(id),
            held_at TEXT NOT NULL,
            reason TEXT NOT NULL,
            text TEXT NOT NULL,
            text_sha256 TEXT NOT NULL,
            snapshot_id INTEGER REFERENCES snapshots(id),
            status TEXT NOT NULL DEFAULT 'pending',
            reviewed_at TEXT
        );

        CREATE TABLE clauses (
            id INTEGER PRIMARY KEY,
            version_id INTEGER NOT NULL REFERENCES versions(id),
            ordinal INTEGER NOT NULL,
            path TEXT NOT NULL,
            heading TEXT,
            label TEXT,
            text TEXT NOT NULL,
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            depth INTEGER NOT NULL DEFAULT 0,
            parent_ordinal INTEGER,
            open_relevant INTEGER NOT NULL DEFAULT 0,
            tags TEXT NOT NULL DEFAULT '[]',
            UNIQUE (version_id, ordinal)
        );

        CREATE TABLE clause_tags (
            id INTEGER PRIMARY KEY,
            clause_id INTEGER NOT NULL REFERENCES clauses(id),
            tag TEXT NOT NULL,
            score REAL NOT NULL,
            evidence TEXT,
            rule TEXT
        );
        CREATE INDEX idx_clause_tags_clause ON clause_tags(clause_id);
        CREATE INDEX idx_clause_tags_tag ON clause_tags(tag);

        CREATE TABLE entities (
            id INTEGER PRIMARY KEY,
            clause_id INTEGER NOT NULL REFERENCES clauses(id),
            type TEXT NOT NULL,
            text TEXT NOT NULL,
            value TEXT,
            value_number REAL,
            unit TEXT,
            currency TEXT,
            start INTEGER,
            "end" INTEGER
        );
        CREATE INDEX idx_entities_clause ON entities(clause_id);
        CREATE INDEX idx_entities_type ON entities(type, value);

        CREATE TABLE changes (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES sources(id),
            family TEXT,
            scope TEXT NOT NULL,
            old_version_id INTEGER REFERENCES versions(id),
            new_version_id INTEGER NOT NULL REFERENCES versions(id),
            via_source_id INTEGER REFERENCES sources(id),
            kind TEXT NOT NULL,
            old_path TEXT,
            new_path TEXT,
            old_text TEXT,
            new_text TEXT,
            word_diff TEXT,
            substantive INTEGER NOT NULL,
            cosmetic_reasons TEXT NOT NULL DEFAULT '[]',
            tags_added TEXT NOT NULL DEFAULT '[]',
            tags_removed TEXT NOT NULL DEFAULT '[]',
            entity_changes TEXT NOT NULL DEFAULT '[]',
            detected_at TEXT NOT NULL,
            effective_date TEXT,
            detector_version TEXT NOT NULL
        );
        CREATE INDEX idx_changes_source ON changes(source_id, new_version_id);
        CREATE INDEX idx_changes_detected ON changes(detected_at);

        CREATE TABLE job_runs (
            id INTEGER PRIMARY KEY,
            job_id TEXT NOT NULL,
            source_id TEXT,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            outcome TEXT NOT NULL DEFAULT 'running',
            exit_code INTEGER,
            error TEXT
        );
        CREATE INDEX idx_job_runs_job ON job_runs(job_id, started_at);
        """
    )


@public()
def m002_extraction_key(db: Database) -> None:
    # extractor version + hash of the selectors that produced a version's text: when it differs from the
    # current one, the stored snapshots are re-extracted (a technical re-extraction, not a change)
    db.execute("ALTER TABLE versions ADD COLUMN extraction_key TEXT")


@public()
def m003_schedule_history(db: Database) -> None:
    # the scheduler's run history: how long each run took and what it did; operator alerts (the channel
    # only: an address or webhook URL must not be published)
    db.executescript(
        """
        ALTER TABLE job_runs ADD COLUMN duration_s REAL;
        ALTER TABLE job_runs ADD COLUMN detail TEXT;
        CREATE INDEX idx_job_runs_source ON job_runs(source_id, started_at);
        CREATE TABLE operator_notifications (
            id INTEGER PRIMARY KEY,
            job_id TEXT NOT NULL,
            source_id TEXT,
            job_run_id INTEGER REFERENCES job_runs(id),
            failures INTEGER NOT NULL,
            channel TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            ok INTEGER NOT NULL,
            error TEXT
        );
        """
    )


@public()
def m004_publication(db: Database) -> None:
    # FTS5 over clauses and versions with triggers, views for bulk export, indexes for the Datasette pages;
    # db.publish.publish is idempotent and runs again at `clausewatch serve` to bring views up to date
    from clausewatch.db.publish import publish

    publish(db)


@public()
def m005_change_comparisons(db: Database) -> None:
    # one row per version compared by a change-detector version, even when nothing changed, so change
    # detection is incremental and idempotent; the changes themselves are in `changes`
    db.executescript(
        """
        CREATE TABLE change_comparisons (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES sources(id),
            new_version_id INTEGER NOT NULL REFERENCES versions(id),
            old_version_id INTEGER REFERENCES versions(id),
            scope TEXT NOT NULL,
            detector_version TEXT NOT NULL,
            compared_at TEXT NOT NULL,
            changes INTEGER NOT NULL DEFAULT 0,
            substantive INTEGER NOT NULL DEFAULT 0,
            seconds REAL,
            UNIQUE (new_version_id, detector_version)
        );
        CREATE INDEX idx_changes_new_version ON changes(new_version_id);
        CREATE INDEX idx_changes_via ON changes(via_source_id);
        """
    )



@private()
def p001_subscriptions(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE subscriptions (
            id INTEGER PRIMARY KEY,
            channel TEXT NOT NULL,
            address TEXT NOT NULL,
            filters TEXT NOT NULL DEFAULT '{}',
            cadence TEXT NOT NULL DEFAULT 'daily',
            token_hash TEXT NOT NULL UNIQUE,
            secret TEXT,
            confirmed INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            confirmed_at TEXT,
            unsubscribed_at TEXT,
            last_digest_at TEXT,
            next_attempt_at TEXT,
            failures INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE deliveries (
            id INTEGER PRIMARY KEY,
            subscription_id INTEGER NOT NULL REFERENCES subscriptions(id),
            change_id INTEGER NOT NULL,
            delivered_at TEXT NOT NULL,
            attempt_id INTEGER,
            UNIQUE (subscription_id, change_id)
        );
        CREATE TABLE delivery_attempts (
            id INTEGER PRIMARY KEY,
            subscription_id INTEGER NOT NULL REFERENCES subscriptions(id),
            attempted_at TEXT NOT NULL,
            channel TEXT NOT NULL,
            changes INTEGER NOT NULL,
            ok INTEGER NOT NULL,
            status TEXT,
            error TEXT
        );
        """
    )


@private()
def p002_digest_links(db: Database) -> None:
    # confirm/unsubscribe links carry their own random tokens, stored hashed like the subscription token;
    # since_version_id: a subscriber gets the changes of versions compared after it subscribed, not the
    # history (change ids are no watermark: a new detector version deletes and re-inserts changes, and
    # SQLite reuses the freed ids); deliveries.change_key: what a change is (source, versions, paths,
    # texts), so a change stored again under another id is not delivered twice
    db.executescript(
        """
        CREATE TABLE link_tokens (
            id INTEGER PRIMARY KEY,
            subscription_id INTEGER NOT NULL REFERENCES subscriptions(id),
            purpose TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        );
        CREATE INDEX idx_link_tokens_subscription ON link_tokens(subscription_id);
        ALTER TABLE subscriptions ADD COLUMN since_version_id INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE subscriptions ADD COLUMN feed_key TEXT;
        ALTER TABLE deliveries ADD COLUMN change_key TEXT;
        CREATE INDEX idx_deliveries_key ON deliveries(subscription_id, change_key);
        ALTER TABLE delivery_attempts ADD COLUMN change_ids TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE delivery_attempts ADD COLUMN duration_ms INTEGER;
        CREATE INDEX idx_delivery_attempts_subscription ON delivery_attempts(subscription_id, attempted_at);
        """
    )


@private()
def p003_web_requests(db: Database) -> None:
    # subscription requests made from the public site's form, for its rate limits: the client address and
    # the email address are stored only as salted hashes, and rows older than a day are deleted
    db.executescript(
        """
        CREATE TABLE web_requests (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            action TEXT NOT NULL,
            client_hash TEXT NOT NULL,
            address_hash TEXT
        );
        CREATE INDEX idx_web_requests_at ON web_requests(action, at);
        """
    )


@public()
def m1501_alerts_flaps_templates(db: Database) -> None:
    # sources: what a declaration says about alerting and comparing (role: document | context; a change
    # alerts once its version persisted alert_after_fetches fetches; template: the template licence a copy
    # is compared with). changes.alert: 1 alerting, 0 not, NULL waiting for persistence; fingerprint: what
    # the change is (its clause texts before and after), so a flap back to a text seen before alerts once;
    # reverted_to_version_id: the earlier version whose text the new version returns to
    db.executescript(
        """
        ALTER TABLE sources ADD COLUMN role TEXT NOT NULL DEFAULT 'document';
        ALTER TABLE sources ADD COLUMN alert_after_fetches INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE sources ADD COLUMN template TEXT;
        ALTER TABLE changes ADD COLUMN alert INTEGER;
        ALTER TABLE changes ADD COLUMN fingerprint TEXT;
        ALTER TABLE changes ADD COLUMN reverted_to_version_id INTEGER REFERENCES versions(id);
        ALTER TABLE change_comparisons ADD COLUMN reverted_to_version_id INTEGER REFERENCES versions(id);
        CREATE INDEX idx_changes_alert ON changes(alert, new_version_id);
        CREATE INDEX idx_changes_fingerprint ON changes(source_id, fingerprint);
        """
    )


@public()
def m1901_processing_errors(db: Database) -> None:
    # a version whose analysis failed keeps its error (and is not analysed again until the pipeline changes);
    # a comparison that could not be made keeps its reason: one document's failure never stops the others
    db.executescript(
        """
        ALTER TABLE versions ADD COLUMN process_error TEXT;
        ALTER TABLE versions ADD COLUMN failed_pipeline_version TEXT;
        ALTER TABLE change_comparisons ADD COLUMN error TEXT;
        """
    )


@public()
def m1601_site(db: Database) -> None:
    # the site as an analyst's tool (issue 16):
    # - sources.document: renditions of one document (HTML, PDF, Formex of one act) share a document id;
    # - pair_comparisons / pair_changes: any two versions of a family compared by the change detector, for
    #   the site's "compare any two" and the rendition check. Kept apart from `changes`, which holds what
    #   happened (consecutive versions and releases): digests, feeds and counts never read these tables;
    # - glossary: plain labels and definitions of tags, entity types and the site's other terms.
    db.executescript(
        """
        ALTER TABLE sources ADD COLUMN document TEXT;
        CREATE INDEX idx_sources_document ON sources(document);
        CREATE INDEX idx_change_comparisons_old ON change_comparisons(old_version_id);
        CREATE TABLE pair_comparisons (
            id INTEGER PRIMARY KEY,
            purpose TEXT NOT NULL,
            family TEXT,
            document TEXT,
            old_version_id INTEGER NOT NULL REFERENCES versions(id),
            new_version_id INTEGER NOT NULL REFERENCES versions(id),
            detector_version TEXT NOT NULL,
            compared_at TEXT NOT NULL,
            changes INTEGER NOT NULL DEFAULT 0,
            substantive INTEGER NOT NULL DEFAULT 0,
            seconds REAL,
            UNIQUE (old_version_id, new_version_id)
        );
        CREATE INDEX idx_pair_comparisons_new ON pair_comparisons(new_version_id);
        CREATE TABLE pair_changes (
            id INTEGER PRIMARY KEY,
            comparison_id INTEGER NOT NULL REFERENCES pair_comparisons(id),
            old_version_id INTEGER NOT NULL REFERENCES versions(id),
            new_version_id INTEGER NOT NULL REFERENCES versions(id),
            kind TEXT NOT NULL,
            old_path TEXT,
            new_path TEXT,
            old_text TEXT,
            new_text TEXT,
            word_diff TEXT,
            substantive INTEGER NOT NULL,
            cosmetic_reasons TEXT NOT NULL DEFAULT '[]',
            tags_added TEXT NOT NULL DEFAULT '[]',
            tags_removed TEXT NOT NULL DEFAULT '[]',
            entity_changes TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX idx_pair_changes_comparison ON pair_changes(comparison_id);
        CREATE INDEX idx_pair_changes_versions ON pair_changes(new_version_id, old_version_id);
        CREATE TABLE glossary (
            id INTEGER PRIMARY KEY,
            term TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            grp TEXT,
            label TEXT NOT NULL,
            definition TEXT NOT NULL,
            ordinal INTEGER NOT NULL DEFAULT 0
        );
        """
    )


@public()
def m1801_openness(db: Database) -> None:
    # issue 18: the openness rating of every licence version, alone (scope 'version') and as the effective
    # licence (scope 'effective': with the versions of the policies it incorporates); one row per criterion
    # with its evidence clauses; verdict changes between consecutive ratings of a licence (digests)
    db.executescript(
        """
        CREATE TABLE openness_ratings (
            id INTEGER PRIMARY KEY,
            state_key TEXT NOT NULL UNIQUE,
            source_id INTEGER NOT NULL REFERENCES sources(id),
            version_id INTEGER NOT NULL REFERENCES versions(id),
            scope TEXT NOT NULL,
            policy_version_ids TEXT NOT NULL DEFAULT '[]',
            unread TEXT NOT NULL DEFAULT '[]',
            trigger_version_id INTEGER NOT NULL REFERENCES versions(id),
            valid_from TEXT,
            class TEXT NOT NULL,
            class_label TEXT NOT NULL,
            class_reason TEXT,
            decided_by TEXT NOT NULL DEFAULT '[]',
            rule_version TEXT NOT NULL,
            rater_version TEXT NOT NULL,
            rated_at TEXT NOT NULL
        );
        CREATE INDEX idx_openness_ratings_version ON openness_ratings(version_id, scope);
        CREATE INDEX idx_openness_ratings_source ON openness_ratings(source_id, scope, valid_from);

        CREATE TABLE openness (
            id INTEGER PRIMARY KEY,
            rating_id INTEGER NOT NULL REFERENCES openness_ratings(id),
            version_id INTEGER NOT NULL REFERENCES versions(id),
            scope TEXT NOT NULL,
            criterion TEXT NOT NULL,
            label TEXT,
            short TEXT,
            verdict TEXT NOT NULL,
            detail TEXT,
            reason TEXT NOT NULL,
            first_clause_id INTEGER REFERENCES clauses(id),
            evidence_clause_ids TEXT NOT NULL DEFAULT '[]',
            evidence_tags TEXT NOT NULL DEFAULT '[]',
            evidence TEXT NOT NULL DEFAULT '[]',
            rule_version TEXT NOT NULL,
            UNIQUE (rating_id, criterion)
        );
        CREATE INDEX idx_openness_version ON openness(version_id, scope, criterion);
        CREATE INDEX idx_openness_verdict ON openness(criterion, verdict);

        CREATE TABLE rating_changes (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES sources(id),
            family TEXT,
            scope TEXT NOT NULL,
            basis TEXT NOT NULL,
            via_source_id INTEGER REFERENCES sources(id),
            old_rating_id INTEGER REFERENCES openness_ratings(id),
            new_rating_id INTEGER NOT NULL REFERENCES openness_ratings(id),
            old_version_id INTEGER REFERENCES versions(id),
            new_version_id INTEGER NOT NULL REFERENCES versions(id),
            trigger_version_id INTEGER NOT NULL REFERENCES versions(id),
            criterion TEXT NOT NULL,
            old_verdict TEXT,
            new_verdict TEXT NOT NULL,
            old_detail TEXT,
            new_detail TEXT,
            old_reason TEXT,
            new_reason TEXT,
            old_class TEXT,
            new_class TEXT NOT NULL,
            old_clause_ids TEXT NOT NULL DEFAULT '[]',
            new_clause_ids TEXT NOT NULL DEFAULT '[]',
            old_tags TEXT NOT NULL DEFAULT '[]',
            new_tags TEXT NOT NULL DEFAULT '[]',
            effective_date TEXT,
            detected_at TEXT NOT NULL,
            rule_version TEXT NOT NULL
        );
        CREATE INDEX idx_rating_changes_new ON rating_changes(new_rating_id);
        CREATE INDEX idx_rating_changes_trigger ON rating_changes(trigger_version_id);
        """
    )


@public()
def m1802_models(db: Database) -> None:
    # issue 18: open-weight models (declared in crawlers/models/*.yaml) and what their Hugging Face model
    # cards say: licence fields, the tracked licence they link to, component facts (weights, code, data)
    db.executescript(
        """
        CREATE TABLE models (
            id INTEGER PRIMARY KEY,
            repo_id TEXT NOT NULL UNIQUE,
            family TEXT NOT NULL,
            title TEXT,
            publisher TEXT,
            declared_in TEXT,
            notes TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL DEFAULT 'new',
            last_fetch_at TEXT,
            last_success_at TEXT,
            last_error TEXT,
            card_license TEXT,
            card_license_name TEXT,
            card_license_link TEXT,
            license_tags TEXT NOT NULL DEFAULT '[]',
            gated TEXT,
            pipeline_tag TEXT,
            base_models TEXT NOT NULL DEFAULT '[]',
            hub_sha TEXT,
            hub_last_modified TEXT,
            licence_source_id INTEGER REFERENCES sources(id),
            matched_by TEXT,
            match_detail TEXT,
            license_file TEXT,
            license_file_source_id INTEGER REFERENCES sources(id),
            license_file_similarity REAL,
            flag TEXT,
            openness_level TEXT,
            openness_reason TEXT,
            linked_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX idx_models_family ON models(family);
        CREATE INDEX idx_models_licence ON models(licence_source_id);

        CREATE TABLE model_documents (
            id INTEGER PRIMARY KEY,
            model_id INTEGER NOT NULL REFERENCES models(id),
            kind TEXT NOT NULL,
            url TEXT NOT NULL,
            http_status INTEGER,
            etag TEXT,
            last_modified TEXT,
            sha256 TEXT,
            body TEXT,
            fetched_at TEXT NOT NULL,
            changed_at TEXT,
            error TEXT,
            UNIQUE (model_id, kind)
        );

        CREATE TABLE model_components (
            id INTEGER PRIMARY KEY,
            model_id INTEGER NOT NULL REFERENCES models(id),
            component TEXT NOT NULL,
            value TEXT NOT NULL,
            source TEXT NOT NULL,
            detail TEXT,
            UNIQUE (model_id, component, value)
        );
        CREATE INDEX idx_model_components_model ON model_components(model_id);
        """
    )
    # the views over ratings and models (db/openness.py, db/models.py) for databases made before them
    from clausewatch.db.publish import publish

    publish(db)


@public()
def m1701_stored_items(db: Database) -> None:
    # cluster mode: the items the writer stored from the Redis stream, by the id the worker gave them
    # (source, cycle, step), recorded in the transaction that stores the fetch: an item delivered twice
    # (a writer restarted before acknowledging it, a request fetched again after its worker died) is
    # stored once. Rows of single-process crawls have no item id and are not recorded here.
    db.executescript(
        """
        CREATE TABLE stored_items (
            id INTEGER PRIMARY KEY,
            item_id TEXT NOT NULL UNIQUE,
            fetch_id INTEGER REFERENCES fetches(id),
            stored_at TEXT NOT NULL
        );
        """
    )
