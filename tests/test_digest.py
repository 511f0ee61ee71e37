"""Digests end to end against a real aiosmtpd server and a real webhook receiver on 127.0.0.1.

The database holds real rows: sources, versions and clauses through the db functions, and changes rows
as the change detector writes them; one test runs the whole pipeline (replay, analyse, detect) instead.
"""
from __future__ import annotations

import json

import pytest
from aiosmtpd.controller import Controller

from clausewatch.db import connect, now_iso
from clausewatch.digest.webhook import verify_signature
from tests.conftest import run_cli
from tests.fixtures.digest.support import (
    LICENCE_V2,
    Receiver,
    SmtpServer,
    Store,
    bodies,
    cw,
    isolate,
    licence_change,
    private_rows,
    self_signed,
    subscribe_json,
)


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "cw.db")


@pytest.fixture
def env(tmp_path, monkeypatch) -> dict[str, str]:
    return isolate(tmp_path, monkeypatch)



# ---------------------------------------------------------------- email

def test_one_mail_per_subscriber_naming_the_clause_with_its_diff_then_nothing(tmp_path, env, store, smtp):
    sub = subscribe_json("--email", "ada@example.org", "--family", "acme-license", "--cadence", "immediate",
                         "--confirmed", env=smtp.env())
    change_id = licence_change(store)
    store.change("acme-model-license", 1, 2, path="1", old="x", new="x ", substantive=False)   # cosmetic
    v = store.version("acme-use-policy", "1. no", "2025-01-01", [("1", "No weapons.", [])])
    store.change("acme-use-policy", None, v, kind="added", path="1", new="No weapons.")        # other family

    result = cw("digest", env=smtp.env())
    assert result.exit_code == 0, result.output
    assert len(smtp.messages) == 1
    sender, rcpts, msg = smtp.messages[0]
    assert rcpts == ["ada@example.org"] and sender == "digests@clausewatch.test"
    assert msg.get_content_type() == "multipart/alternative"
    text, html = bodies(msg)
    assert "Acme Model License › 2 — modified" in text
    assert ("the Materials [-or any output to improve any other large language model.-] "
            "{+for military purposes.+}") in text
    assert "<del" in html and "<ins" in html and "military" in html
    assert f"https://cw.example.org/clausewatch/changes/{change_id}" in text
    assert "No weapons" not in text, "a change of another family was sent"
    assert "restrict.output_use" in text, "tag deltas are named"
    # an unsubscribe link in the body and in the headers (RFC 2369 / RFC 8058 one-click)
    unsubscribe = msg["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://cw.example.org/-/subscriptions/unsubscribe?token=")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link_token = unsubscribe.split("token=")[1].rstrip(">")
    assert link_token in text and link_token != sub["token"]

    deliveries = private_rows(tmp_path, "deliveries")
    assert [(d["subscription_id"], d["change_id"]) for d in deliveries] == [(sub["id"], change_id)]
    again = cw("digest", env=smtp.env())
    assert again.exit_code == 0 and len(smtp.messages) == 1, "a change was delivered twice"
    assert len(private_rows(tmp_path, "delivery_attempts")) == 1

    # the link from the mail unsubscribes; then nothing more is sent
    assert cw("unsubscribe", link_token).exit_code == 0
    store.change("acme-model-license", 1, 2, path="1", old="use", new="use and sell")
    assert cw("digest", env=smtp.env()).exit_code == 0
    assert len(smtp.messages) == 1


def test_changes_detected_before_subscribing_are_not_sent(tmp_path, env, store, smtp):
    licence_change(store)
    subscribe_json("--email", "ada@example.org", "--cadence", "immediate", "--confirmed", env=smtp.env())
    assert cw("digest", env=smtp.env()).exit_code == 0
    assert smtp.messages == []
    v3 = store.version("acme-model-license", "1. a\n\n2. d", "2025-06-01", LICENCE_V2)
    later = store.change("acme-model-license", 2, v3, path="1", old="use", new="use and sell")
    assert cw("digest", env=smtp.env()).exit_code == 0
    assert len(smtp.messages) == 1
    assert f"/clausewatch/changes/{later}" in bodies(smtp.messages[0][2])[0]


def test_smtp_down_marks_nothing_and_a_later_run_delivers(tmp_path, env, store):
    server = SmtpServer()       # not started: nothing listens on its port
    subscribe_json("--email", "ada@example.org", "--cadence", "immediate", "--confirmed", env=server.env())
    licence_change(store)

    down = cw("digest", env=server.env())
    assert down.exit_code == 2
    assert "cannot connect to SMTP server 127.0.0.1" in down.stderr
    assert private_rows(tmp_path, "deliveries") == []
    attempts = private_rows(tmp_path, "delivery_attempts")
    assert len(attempts) == 1 and attempts[0]["ok"] == 0 and "cannot connect" in attempts[0]["error"]
    sub = private_rows(tmp_path, "subscriptions")[0]
    assert sub["failures"] == 1 and sub["next_attempt_at"] > now_iso(), "no backoff scheduled"

    server.start()
    try:
        waiting = cw("digest", env=server.env())          # backoff not over: not retried yet
        assert waiting.exit_code == 0 and server.messages == []
        retry = cw("digest", "--retry-now", env=server.env())
        assert retry.exit_code == 0, retry.output
        assert len(server.messages) == 1
        assert len(private_rows(tmp_path, "deliveries")) == 1
        sub = private_rows(tmp_path, "subscriptions")[0]
        assert sub["failures"] == 0 and sub["next_attempt_at"] is None
        assert cw("digest", "--retry-now", env=server.env()).exit_code == 0
        assert len(server.messages) == 1
    finally:
        server.stop()


def test_a_change_stored_again_by_a_new_detector_is_not_sent_again(tmp_path, env, store, smtp):
    early = subscribe_json("--email", "ada@example.org", "--cadence", "immediate", "--confirmed", env=smtp.env())
    first = licence_change(store)
    assert cw("digest", env=smtp.env()).exit_code == 0 and len(smtp.messages) == 1
    late = subscribe_json("--email", "bob@example.org", "--cadence", "immediate", "--confirmed", env=smtp.env())
    # what db.comparisons.record_comparison does for a new detector version: delete, insert again, under a
    # new id here (a cosmetic change took the freed one)
    row = store.db["changes"].get(first)
    store.db["changes"].delete(first)
    store.change("acme-model-license", 1, 2, path="1", old="x", new="x ", substantive=False)
    again = store.db["changes"].insert({k: v for k, v in row.items() if k != "id"}).last_pk
    assert again != first
    assert cw("digest", env=smtp.env()).exit_code == 0
    assert len(smtp.messages) == 1, "a re-stored change was sent again, or sent to a later subscriber as news"
    # SQLite gives a freed id to the next row: a new change under an id delivered before is still sent
    store.db["changes"].delete(again)
    v3 = store.version("acme-model-license", "1. a\n\n2. d", "2025-06-01", LICENCE_V2)
    reused = store.change("acme-model-license", 2, v3, path="1", old="use", new="use and sell")
    assert reused == again
    assert cw("digest", env=smtp.env()).exit_code == 0
    assert sorted(m[1][0] for m in smtp.messages[1:]) == ["ada@example.org", "bob@example.org"]
    assert early["id"] != late["id"]


def test_dry_run_sends_nothing_and_marks_nothing(tmp_path, env, store, smtp):
    subscribe_json("--email", "ada@example.org", "--cadence", "immediate", "--confirmed", env=smtp.env())
    licence_change(store)
    dry = cw("digest", "--dry-run", env=smtp.env())
    assert dry.exit_code == 0
    assert "would send 1 change to #1 email a***@example.org" in dry.stdout
    assert "acme-model-license › 2 — modified" in dry.stdout
    assert smtp.messages == [] and private_rows(tmp_path, "deliveries") == []
    assert private_rows(tmp_path, "delivery_attempts") == [] and private_rows(tmp_path, "link_tokens") == []
    assert cw("digest", env=smtp.env()).exit_code == 0 and len(smtp.messages) == 1


def test_double_opt_in_only_the_mailed_token_confirms(tmp_path, env, store, smtp):
    result = cw("subscribe", "--email", "bob@example.org", "--cadence", "immediate", env=smtp.env())
    assert result.exit_code == 0, result.output
    printed = result.stdout.split("token: ")[1].split()[0]
    assert len(smtp.messages) == 1
    _, rcpts, confirmation = smtp.messages[0]
    assert rcpts == ["bob@example.org"] and confirmation["Subject"] == "Confirm your clausewatch subscription"
    mailed = bodies(confirmation)[0].split("confirm?token=")[1].split()[0]
    assert mailed != printed

    licence_change(store)
    assert cw("digest", env=smtp.env()).exit_code == 0
    assert len(smtp.messages) == 1, "an unconfirmed subscriber received a digest"
    refused = cw("confirm", printed)
    assert refused.exit_code == 2 and "confirmation token is unknown" in refused.stderr
    assert cw("confirm", mailed).exit_code == 0
    assert cw("confirm", mailed).exit_code == 2, "a confirmation token works once"
    # changes detected before the confirmation but after subscribing are delivered
    assert cw("digest", env=smtp.env()).exit_code == 0
    assert len(smtp.messages) == 2


def test_confirmation_mail_that_cannot_be_sent_keeps_nothing(tmp_path, env):
    server = SmtpServer()
    result = cw("subscribe", "--email", "bob@example.org", env=server.env())
    assert result.exit_code == 2
    assert "could not send the confirmation mail to bob@example.org" in result.stderr
    assert "nothing was saved" in result.stderr
    assert private_rows(tmp_path, "subscriptions") == []


def test_weekly_subscriber_waits_a_week(tmp_path, env, store, smtp):
    subscribe_json("--email", "ada@example.org", "--cadence", "weekly", "--confirmed", env=smtp.env())
    licence_change(store)
    assert cw("digest", env=smtp.env()).exit_code == 0 and len(smtp.messages) == 1
    store.change("acme-model-license", 1, 2, path="1", old="use", new="use and sell")
    assert cw("digest", env=smtp.env()).exit_code == 0 and len(smtp.messages) == 1
    assert cw("digest", "--cadence", "daily", env=smtp.env()).exit_code == 0 and len(smtp.messages) == 1


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_modes_verify_the_server_certificate(tmp_path, env, store, mode):
    import ssl

    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpServer()
    tls = {"tls_context": context, "require_starttls": True} if mode == "starttls" else {"ssl_context": context}
    server.controller = Controller(server.inbox, hostname="127.0.0.1", port=server.port, **tls)
    server.start()
    try:
        tls_env = {**server.env(), "CLAUSEWATCH_SMTP_TLS": mode}
        subscribe_json("--email", "ada@example.org", "--cadence", "immediate", "--confirmed", env=tls_env)
        licence_change(store)
        untrusted = cw("digest", env=tls_env)
        assert untrusted.exit_code == 2 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
        assert server.messages == []
        trusted = cw("digest", "--retry-now", env={**tls_env, "CLAUSEWATCH_SMTP_CAFILE": str(cert)})
        assert trusted.exit_code == 0, trusted.output
        assert len(server.messages) == 1
    finally:
        server.stop()


# ---------------------------------------------------------------- webhooks

def test_webhook_post_is_signed_and_verifies(tmp_path, env, store, receiver, monkeypatch):
    monkeypatch.setenv("CLAUSEWATCH_WEBHOOK_ALLOW_LOCAL", "1")
    sub = subscribe_json("--webhook", receiver.url(), "--tag", "restrict", "--cadence", "immediate")
    assert sub["secret"] and len(sub["secret"]) >= 43
    change_id = licence_change(store)
    store.change("acme-model-license", 1, 2, path="1", old="use", new="use and sell")   # no restrict.* tag
    assert cw("digest").exit_code == 0
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["path"] == "/hooks/s3cr3t-path"
    signature = request["headers"]["X-Clausewatch-Signature"]
    assert signature.startswith("sha256=")
    assert verify_signature(sub["secret"], request["body"], signature)
    assert not verify_signature(sub["secret"], request["body"] + b" ", signature)
    assert not verify_signature("another secret", request["body"], signature)
    payload = json.loads(request["body"])
    assert [c["id"] for c in payload["changes"]] == [change_id]
    assert payload["changes"][0]["new_path"] == "2" and payload["changes"][0]["source"] == "acme-model-license"
    assert request["headers"]["X-Clausewatch-Delivery"] == payload["delivery"]
    assert len(private_rows(tmp_path, "deliveries")) == 1

    receiver.status = 500
    store.change("acme-model-license", 1, 2, path="2", old="a", new="b", tags_added=["restrict.geographic"])
    failed = cw("digest")
    assert failed.exit_code == 2 and "answered 500" in failed.stderr
    assert len(private_rows(tmp_path, "deliveries")) == 1, "a change was marked delivered after a 500"


def test_https_webhooks_verify_the_receiver_certificate(tmp_path, env, store, monkeypatch):
    import ssl

    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    secure = Receiver(tls=context)
    try:
        monkeypatch.setenv("CLAUSEWATCH_WEBHOOK_ALLOW_LOCAL", "1")
        sub = subscribe_json("--webhook", secure.url(), "--cadence", "immediate")
        licence_change(store)
        untrusted = cw("digest")
        assert untrusted.exit_code == 2 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
        assert secure.requests == []
        monkeypatch.setenv("CLAUSEWATCH_WEBHOOK_CAFILE", str(cert))
        assert cw("digest", "--retry-now").exit_code == 0
        assert len(secure.requests) == 1
        request = secure.requests[0]
        assert verify_signature(sub["secret"], request["body"], request["headers"]["X-Clausewatch-Signature"])
    finally:
        secure.stop()


def test_webhook_redirects_are_not_followed(tmp_path, env, store, monkeypatch):
    monkeypatch.setenv("CLAUSEWATCH_WEBHOOK_ALLOW_LOCAL", "1")
    target = Receiver()
    redirector = Receiver(status=302, location=target.url("/internal"))
    try:
        subscribe_json("--webhook", redirector.url(), "--cadence", "immediate")
        licence_change(store)
        result = cw("digest")
        assert result.exit_code == 2 and "redirects are not followed" in result.stderr
        assert len(redirector.requests) == 1 and target.requests == []
        assert private_rows(tmp_path, "deliveries") == []
    finally:
        target.stop()
        redirector.stop()


def test_webhook_to_a_local_address_is_refused_at_delivery_time(tmp_path, env, store, receiver, monkeypatch):
    monkeypatch.setenv("CLAUSEWATCH_WEBHOOK_ALLOW_LOCAL", "1")
    subscribe_json("--webhook", receiver.url(), "--cadence", "immediate")
    monkeypatch.delenv("CLAUSEWATCH_WEBHOOK_ALLOW_LOCAL")      # the operator withdrew the permission
    licence_change(store)
    result = cw("digest")
    assert result.exit_code == 2
    assert "127.0.0.1 is a loopback address" in result.stderr
    assert receiver.requests == [] and private_rows(tmp_path, "deliveries") == []


# ---------------------------------------------------------------- secrets

@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_secrets_never_reach_output_or_the_delivery_log(tmp_path, env, store, receiver, monkeypatch):
    password = "pa55-W0rd-that-must-not-leak"
    server = SmtpServer(user="mailer", password=password).start()
    try:
        smtp_env = {**server.env(), "CLAUSEWATCH_SMTP_USER": "mailer", "CLAUSEWATCH_SMTP_PASSWORD": password}
        monkeypatch.setenv("CLAUSEWATCH_WEBHOOK_ALLOW_LOCAL", "1")
        mail = subscribe_json("--email", "ada@example.org", "--cadence", "immediate", "--confirmed", env=smtp_env)
        hook = subscribe_json("--webhook", receiver.url(), "--cadence", "immediate")
        licence_change(store)
        runs = [cw("digest", env=smtp_env), cw("subscriptions", "--all"), cw("subscriptions", "--format", "json")]
        assert runs[0].exit_code == 0, runs[0].output
        assert len(server.messages) == 1 and len(receiver.requests) == 1
        assert server.logins == [(b"mailer", password.encode())]
        # a wrong password: the error names the server and the user, never the password
        runs.append(cw("digest", "--retry-now", env={**smtp_env, "CLAUSEWATCH_SMTP_PASSWORD": password + "x"}))
        store.change("acme-model-license", 1, 2, path="1", old="use", new="use and sell")
        bad = cw("digest", env={**smtp_env, "CLAUSEWATCH_SMTP_PASSWORD": password + "x"})
        assert bad.exit_code == 2 and "refused the login" in bad.stderr
        runs.append(bad)
    finally:
        server.stop()
    output = "".join(r.stdout + r.stderr for r in runs)
    log = json.dumps(private_rows(tmp_path, "delivery_attempts"))
    for secret in (password, mail["token"], hook["token"], hook["secret"], "s3cr3t-path"):
        assert secret not in output and secret not in log
    assert "ada@example.org" not in runs[0].stdout + runs[0].stderr, "digest output names a subscriber"
    raw = (tmp_path / "cw-private.db").read_bytes()
    assert mail["token"].encode() not in raw and hook["token"].encode() not in raw


# ---------------------------------------------------------------- feeds

def test_atom_feed_per_subscription(tmp_path, env, store, monkeypatch):
    import feedparser

    sub = subscribe_json("--feed", "--jurisdiction", "EU")
    v = store.version("eu-test-act", "Article 1", "2025-01-01", [("Article 1", "Providers shall <notify>.", [])])
    eu_change = store.change("eu-test-act", None, v, kind="added", path="Article 1", new="Providers shall <notify>.")
    licence_change(store)
    out = tmp_path / "feed.xml"
    result = cw("feed", sub["token"], "-o", str(out))
    assert result.exit_code == 0, result.output
    parsed = feedparser.parse(out.read_bytes())
    assert not parsed.bozo, parsed.bozo_exception
    assert [e.link for e in parsed.entries] == [f"https://cw.example.org/clausewatch/changes/{eu_change}"]
    assert parsed.entries[0].title == "Test Act of the Union › Article 1 — added"
    assert "&lt;notify&gt;" in parsed.entries[0].content[0].value
    assert cw("feed", "not-a-real-token-but-long-enough").exit_code == 2

    feeds = tmp_path / "feeds"
    monkeypatch.setenv("CLAUSEWATCH_FEEDS_DIR", str(feeds))
    assert cw("digest").exit_code == 0
    files = list(feeds.glob("*.xml"))
    assert len(files) == 1 and sub["token"] not in files[0].name
    assert feedparser.parse(files[0].read_bytes()).entries[0].link.endswith(f"/changes/{eu_change}")
    assert cw("unsubscribe", sub["token"]).exit_code == 0
    assert cw("digest").exit_code == 0
    assert list(feeds.glob("*.xml")) == [], "an ended subscription's feed is still published"


def test_one_run_at_a_time(tmp_path, env, store):
    from clausewatch.digest.run import DigestError, run_digest, run_lock

    private = tmp_path / "cw-private.db"
    with run_lock(private), pytest.raises(DigestError, match="another `clausewatch digest` is running"):
        run_digest(tmp_path / "cw.db", private)


# ---------------------------------------------------------------- the whole pipeline

def test_replayed_gemma_terms_change_reaches_the_subscriber_once(tmp_path, corpus, smtp):
    db = tmp_path / "cw.db"
    env = {**smtp.env(), "CLAUSEWATCH_CONFIG": str(tmp_path / "none.toml"), "CLAUSEWATCH_DB": str(db),
           "CLAUSEWATCH_PUBLIC_URL": "https://cw.example.org"}
    run_cli("crawl", "--replay", str(corpus), "--as-of", "2024-06-01", "--source", "gemma-terms", "-q",
            env=env, check=True)
    sub = run_cli("subscribe", "--email", "ada@example.org", "--family", "gemma-terms", "--cadence", "immediate",
                  "--confirmed", env=env, check=True)
    assert "subscription #1" in sub.stdout
    run_cli("digest", env=env, check=True)
    assert smtp.messages == []
    run_cli("crawl", "--replay", str(corpus), "--as-of", "2025-12-31", "--source", "gemma-terms", "-q",
            env=env, check=True)
    # change detection, unless the crawl ran it already (it compares only what it has not compared yet)
    from clausewatch.stages.detect import detect_changes

    detect_changes(connect(db), source_ids=["gemma-terms"])
    changes = list(connect(db).query("SELECT * FROM changes WHERE family = 'gemma-terms' AND substantive = 1"))
    assert changes, "the change detector found no substantive change between the Gemma terms of 2024 and 2025"

    run_cli("digest", env=env, check=True)
    assert len(smtp.messages) == 1
    text, html = bodies(smtp.messages[0][2])
    for change in changes:
        path = change["new_path"] or change["old_path"]
        assert f"› {' '.join(path.split())} — {change['kind']}" in text
        assert f"/clausewatch/changes/{change['id']}" in text
    assert "[-" in text or "{+" in text
    assert "<del" in html or "<ins" in html
    run_cli("digest", env=env, check=True)
    assert len(smtp.messages) == 1
