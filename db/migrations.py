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
