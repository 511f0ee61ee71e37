"""Subscribing: address validation (header injection), webhook SSRF policy, tokens, filters."""
from __future__ import annotations

import base64
import hmac
import json

import pytest

from clausewatch.db import connect_private
from clausewatch.digest import filters as filter_rules
from clausewatch.digest import tokens as token_rules
from clausewatch.digest.addresses import AddressError, check_webhook_url, mask_email, mask_url, validate_email
from clausewatch.digest.run import backoff_delay, is_due
from tests.fixtures.digest.support import Store, cw, isolate, subscribe_json


@pytest.fixture
def env(tmp_path, monkeypatch) -> dict[str, str]:
    return isolate(tmp_path, monkeypatch)


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "cw.db")


# ---------------------------------------------------------------- email addresses


@pytest.mark.parametrize("address", ["ada@example.org", "ada.lovelace+digests@mail.example.co.uk",
                                     "o'brien@example.ie", "x@xn--bcher-kva.example"])
def test_plain_addresses_are_accepted(address):
    assert validate_email(address) == address


@pytest.mark.parametrize("address, reason", [
    ("ada@example.org\r\nBcc: everyone@example.org", "line break (header injection refused)"),
    ("ada@example.org\nSubject: hi", "line break (header injection refused)"),
    ("ada@example.org%0d%0aBcc:x@y.org", "bare address"),
    ("Ada <ada@example.org>", "without a display name"),
    ("ada@example.org, eve@example.org", "without a display name"),
    ("ada@example.org;eve@example.org", "without a display name"),
    ("ada", "exactly one '@'"),
    ("ada@@example.org", "exactly one '@'"),
    ("ada@localhost", "the domain"),
    ("ada@-example.org", "the domain"),
    (".ada@example.org", "before '@'"),
    ("ada\x00@example.org", "line break"),
    ("a" * 65 + "@example.org", "before '@'"),
])
def test_bad_addresses_are_refused_with_a_reason(address, reason):
    with pytest.raises(AddressError, match="is not an email address") as err:
        validate_email(address)
    assert reason in str(err.value)
    assert "\n" not in str(err.value).replace("\\n", "")


@pytest.mark.usefixtures("env")
def test_header_injection_is_refused_by_the_command(tmp_path):
    result = cw("subscribe", "--email", "ada@example.org\r\nBcc: all@example.org", "--confirmed")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "header injection refused" in result.stderr
    assert list(connect_private(tmp_path / "cw-private.db")["subscriptions"].rows) == []


def test_masks_keep_subscribers_out_of_logs():
    assert mask_email("ada@example.org") == "a***@example.org"
    assert mask_url("https://hooks.example.org:8443/services/T0/B0/secret?x=1") == "https://hooks.example.org:8443/…"


# ---------------------------------------------------------------- webhook URLs (SSRF)

@pytest.mark.parametrize("url, reason", [
    ("ftp://example.org/hook", "must be http or https"),
    ("file:///etc/passwd", "must be http or https"),
    ("gopher://127.0.0.1:25/", "must be http or https"),
    ("http:///nohost", "has no host"),
    ("http://localhost:8080/hook", "local host name"),
    ("http://api.localhost/hook", "local host name"),
    ("http://127.0.0.1/hook", "loopback"),
    ("http://127.8.9.10/hook", "loopback"),
    ("http://[::1]/hook", "loopback"),
    ("http://[::ffff:127.0.0.1]/hook", "loopback"),
    ("http://0.0.0.0/hook", "unspecified"),
    ("http://10.1.2.3/hook", "private"),
    ("http://172.16.0.9/hook", "private"),
    ("http://192.168.1.1/hook", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/hook", "link-local"),
    ("http://[fd00::1]/hook", "private"),
    ("http://100.64.0.1/hook", "not a public address"),
    ("http://2130706433/hook", "resolves to 127.0.0.1"),     # 127.0.0.1 written as one decimal number
    ("http://0x7f.1/hook", "resolves to 127.0.0.1"),
    ("https://user:pass@hooks.example.org/x", "credentials"),
    ("http://exa mple.org/hook", "spaces or control characters"),
])
def test_webhook_targets_outside_the_public_internet_are_refused(url, reason, monkeypatch):
    monkeypatch.delenv("CLAUSEWATCH_WEBHOOK_ALLOW_LOCAL", raising=False)
    with pytest.raises(AddressError) as err:
        check_webhook_url(url)
    assert reason in str(err.value)


def test_public_webhook_targets_and_allowed_local_ones_pass(monkeypatch):
    monkeypatch.delenv("CLAUSEWATCH_WEBHOOK_ALLOW_LOCAL", raising=False)
    assert check_webhook_url("https://93.184.215.14/hook") == "https://93.184.215.14/hook"
    assert check_webhook_url("http://127.0.0.1:9000/x", allow_local=True) == "http://127.0.0.1:9000/x"
    monkeypatch.setenv("CLAUSEWATCH_WEBHOOK_ALLOW_LOCAL", "1")
    assert check_webhook_url("http://10.0.0.5/x") == "http://10.0.0.5/x"


@pytest.mark.usefixtures("env")
def test_the_command_refuses_a_private_webhook_and_says_how_to_allow_it(tmp_path):
    result = cw("subscribe", "--webhook", "http://192.168.0.10/hook/s3cret")
    assert result.exit_code == 2
    assert "192.168.0.10 is a private address" in result.stderr and "WEBHOOK_ALLOW_LOCAL" in result.stderr
    assert "s3cret" not in result.stderr, "the error shows the webhook path"


# ---------------------------------------------------------------- tokens

@pytest.mark.usefixtures("env")
def test_tokens_carry_at_least_128_random_bits_and_are_stored_hashed(tmp_path):
    tokens = {token_rules.new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert not any(t.startswith("-") for t in tokens), "a token the command line takes for an option"
    for token in list(tokens)[:50]:
        assert len(base64.urlsafe_b64decode(token + "=")) * 8 >= 128
    created = [subscribe_json("--feed"), subscribe_json("--email", "ada@example.org", "--confirmed")]
    raw = (tmp_path / "cw-private.db").read_bytes()
    rows = list(connect_private(tmp_path / "cw-private.db")["subscriptions"].rows)
    for sub, row in zip(created, rows, strict=True):
        assert sub["token"].encode() not in raw
        assert row["token_hash"] == token_rules.hash_token(sub["token"])


@pytest.mark.usefixtures("env")
def test_tokens_are_compared_in_constant_time(tmp_path, monkeypatch):
    sub = subscribe_json("--feed")
    pdb = connect_private(tmp_path / "cw-private.db")
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(token_rules.hmac, "compare_digest", spy)
    assert token_rules.find_by_token(pdb, sub["token"], ("manage",))["id"] == sub["id"]
    assert calls == [(token_rules.hash_token(sub["token"]),) * 2]
    assert token_rules.find_by_token(pdb, sub["token"][:-1] + ("A" if sub["token"][-1] != "A" else "B"), ("manage",)) is None
    assert token_rules.find_by_token(pdb, "x\r\n" * 1000, ("manage",)) is None
    assert token_rules.find_by_token(pdb, sub["token"], ("confirm",)) is None, "the manage token is not a confirm token"


@pytest.mark.usefixtures("env")
def test_unsubscribe_erases_the_address_and_the_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUSEWATCH_WEBHOOK_ALLOW_LOCAL", "1")
    sub = subscribe_json("--webhook", "http://127.0.0.1:9/hook/abc")
    listed = cw("subscriptions", "--format", "json")
    row = json.loads(listed.stdout)
    assert row["address"] == "http://127.0.0.1:9/…" and row["status"] == "active"
    assert "token_hash" not in row and "secret" not in row and sub["secret"] not in listed.stdout
    ended = cw("unsubscribe", "-", input=sub["token"] + "\n")
    assert ended.exit_code == 0 and "ended" in ended.stdout
    stored = list(connect_private(tmp_path / "cw-private.db")["subscriptions"].rows)[0]
    assert stored["address"] == "" and stored["secret"] is None and stored["unsubscribed_at"]
    assert "already ended" in cw("unsubscribe", sub["token"]).stdout
    assert cw("subscriptions").stdout.strip().endswith("0 subscriptions")
    unknown = cw("unsubscribe", token_rules.new_token())
    assert unknown.exit_code == 2 and "matches no subscription" in unknown.stderr


# ---------------------------------------------------------------- filters

CHANGE = {"id": 1, "family": "llama-use-policy", "source_family": "llama-use-policy", "jurisdiction": "global",
          "document_kind": "use-policy", "kind": "modified", "tags_added": ["restrict.geographic"],
          "tags_removed": [], "new_clause_tags": ["restrict.prohibited_use"], "old_clause_tags": ["grant.use"]}


@pytest.mark.parametrize("filters, expected", [
    ({}, True),
    ({"family": ["llama-use-policy"]}, True),
    ({"family": ["gemma-terms", "llama-use-policy"]}, True),
    ({"family": ["gemma-terms"]}, False),
    ({"tag": ["restrict.geographic"]}, True),          # added by the change
    ({"tag": ["restrict"]}, True),                     # sub-tags count
    ({"tag": ["restrict.prohibited_use"]}, True),      # carried by the clause after the change
    ({"tag": ["grant.use"]}, True),                    # carried by the clause before it
    ({"tag": ["grant.commercial"]}, False),
    ({"tag": ["restrict.geo"]}, False),                # a prefix of a name is not a parent tag
    ({"kind": ["use-policy"]}, True),
    ({"kind": ["license"]}, False),
    ({"kind": ["modified"]}, True),
    ({"kind": ["added", "removed"]}, False),
    ({"kind": ["use-policy", "added"]}, False),        # document kind and change kind must both hold
    ({"jurisdiction": ["global"]}, True),
    ({"jurisdiction": ["EU"]}, False),
    ({"family": ["llama-use-policy"], "jurisdiction": ["EU"]}, False),
])
def test_filters(filters, expected):
    assert filter_rules.matches(CHANGE, filters) is expected


def test_jurisdiction_filter_includes_subdivisions():
    assert filter_rules.matches({**CHANGE, "jurisdiction": "US-CA"}, {"jurisdiction": ["US"]})
    assert not filter_rules.matches({**CHANGE, "jurisdiction": "USA"}, {"jurisdiction": ["US"]})


def test_filter_values_are_checked_against_what_is_tracked():
    known = {"family": {"gemma-terms"}, "jurisdiction": {"EU", "US-CA", "global"}, "kind": {"license"}}
    ok = filter_rules.normalise_filters({"family": ["gemma-terms", "gemma-terms"], "jurisdiction": ["eu", "US"],
                                 "kind": ["License", "moved"], "tag": ["Restrict"]}, known)
    assert ok == {"family": ["gemma-terms"], "tag": ["restrict"], "kind": ["license", "moved"],
                  "jurisdiction": ["EU", "US"]}
    with pytest.raises(filter_rules.SubscriptionError, match="--family 'gema-terms' matches no tracked document"):
        filter_rules.normalise_filters({"family": ["gema-terms"]}, known)
    with pytest.raises(filter_rules.SubscriptionError, match="--kind 'licence'"):
        filter_rules.normalise_filters({"kind": ["licence"]}, known)
    with pytest.raises(filter_rules.SubscriptionError, match="not a valid tag"):
        filter_rules.normalise_filters({"tag": ["restrict geographic"]}, known)


@pytest.mark.usefixtures("env", "store")
def test_a_typo_in_a_family_is_an_error_not_a_silent_subscription(tmp_path):
    result = cw("subscribe", "--feed", "--family", "acme-licence")
    assert result.exit_code == 2 and "matches no tracked document" in result.stderr
    assert cw("subscribe", "--feed", "--family", "acme-license").exit_code == 0


@pytest.mark.usefixtures("env")
def test_exactly_one_channel(tmp_path):
    for args in ([], ["--feed", "--email", "ada@example.org"]):
        result = cw("subscribe", *args)
        assert result.exit_code == 2 and "exactly one of --email" in result.stderr


# ---------------------------------------------------------------- cadence and backoff

def test_cadence_and_backoff():
    import datetime as dt

    now = dt.datetime(2025, 6, 2, 6, 0, 2, tzinfo=dt.UTC)
    daily = {"channel": "email", "cadence": "daily", "last_digest_at": "2025-06-01T06:00:05Z", "next_attempt_at": None}
    assert is_due(daily, now)                                               # a few seconds short of 24 h
    assert not is_due({**daily, "last_digest_at": "2025-06-01T18:00:00Z"}, now)
    assert not is_due({**daily, "cadence": "weekly"}, now)
    assert is_due({**daily, "cadence": "weekly", "last_digest_at": "2025-05-26T06:00:00Z"}, now)
    assert is_due({**daily, "cadence": "immediate"}, now)
    waiting = {**daily, "next_attempt_at": "2025-06-02T06:05:00Z"}
    assert not is_due(waiting, now) and is_due(waiting, now, retry_now=True)
    assert not is_due({**daily, "channel": "feed"}, now)
    delays = [backoff_delay(n).total_seconds() / 60 for n in range(1, 12)]
    assert delays[:4] == [5, 10, 20, 40] and max(delays) == 24 * 60
