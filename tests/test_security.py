"""Security: what a crawl may reach, secrets, and the private side (subscriptions, tokens, Datasette).

The crawl checks run ``clausewatch crawl`` for real against fault servers on loopback addresses; a server
that must never be reached records its hits and the test asserts there were none.
"""
from __future__ import annotations

import hmac
import socket

import pytest

pytest.register_assert_rewrite("tests.faultserver")

from clausewatch.crawlers.middlewares import UrlPolicyMiddleware  # noqa: E402
from clausewatch.crawlers.urlpolicy import ALLOW_ALL, address_refusal, local_allowance, url_refusal  # noqa: E402
from tests.conftest import run_cli, write_source  # noqa: E402
from tests.faultserver import FAST_CRAWL_ENV, FaultServer, fault, fetches_of, ok, query  # noqa: E402

pytest_plugins = ["tests.faultserver"]  # fixtures: observed, and the fault matrix row of each test

LICENCE = "Example Licence\n\n1. You may use the model.\n\n2. You must not use it for weapons.\n"
SECRET = "pa55-w0rd-that-must-never-be-printed"


def _env(sources, db_file, allow: str = "") -> dict:
    return {**FAST_CRAWL_ENV, "CLAUSEWATCH_SOURCES": str(sources), "CLAUSEWATCH_DB": str(db_file),
            "CLAUSEWATCH_ALLOW_LOCAL": allow}


def _local_hostname() -> str | None:
    """This machine's name when it resolves to a local address (it usually does: /etc/hosts)."""
    name = socket.gethostname()
    try:
        address = socket.gethostbyname(name)
    except OSError:
        return None
    return name if address_refusal(name, address, frozenset()) and "." not in name else None


# ---------------------------------------------------------------- what a crawl may reach

@fault("source declaration with file://", "a declaration whose url is file:///etc/passwd",
       "refused when the registry loads: exit 2 naming the file; nothing fetched")
def test_file_url_in_a_declaration_is_refused(tmp_path, observed):
    sources = tmp_path / "sources"
    path = write_source(sources, "local-file", "file:///etc/passwd")
    out = run_cli("crawl", "--no-process", env=_env(sources, tmp_path / "cw.db", "1"))
    observed(out.stderr.strip().splitlines()[-1].replace(str(tmp_path), "…"))
    assert out.returncode == 2 and str(path) in out.stderr and "url" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "cw.db").exists() or query(tmp_path / "cw.db", "SELECT * FROM fetches") == []


DISCOVERY = """\
id: evil-discovery
title: A listing that names local URLs
publisher: Test
url: {listing}
format: json
schedule: "0 6 * * *"
discover:
  items: tree
  key: path
  pattern: 'http://(?P<host>[^/]+)/doc(?P<version>[0-9]+)'
  template:
    id: "found-{{version}}"
    title: "Found {{version}}"
    publisher: Test
    jurisdiction: global
    kind: license
    family: found
    version: "{{version}}"
    url: "http://{{host}}/doc{{version}}"
    format: text
"""


@pytest.fixture(scope="module")
def policy(tmp_path_factory):
    """One crawl allowed to reach one loopback origin (``site``) and nothing else; ``target`` must see no hit."""
    tmp = tmp_path_factory.mktemp("policy")
    with FaultServer() as site, FaultServer() as target:
        port = target.port
        target.route("/secret", ok(LICENCE))
        site.route("/terms", ok(LICENCE))
        site.route("/doc2", ok(LICENCE))
        site.route("/listing.json", ok(f'{{"tree": [{{"path": "{target.url("/doc1")}"}}, '
                                       f'{{"path": "{site.url("/doc2")}"}}]}}', "application/json"))
        literal = {"loopback": f"http://127.0.0.1:{port}/secret", "localhost": f"http://localhost:{port}/secret",
                   "ipv6-loopback": f"http://[::1]:{port}/secret", "private": "http://10.0.0.1/secret",
                   "metadata": "http://169.254.169.254/latest/meta-data/",
                   "unspecified": f"http://0.0.0.0:{port}/secret", "ipv4-mapped": f"http://[::ffff:127.0.0.1]:{port}/x"}
        disguised = {"decimal": f"http://2130706433:{port}/secret", "hex": f"http://0x7f000001:{port}/secret",
                     "short": f"http://127.1:{port}/secret"}
        if _local_hostname():
            disguised["hostname"] = f"http://{_local_hostname()}:{port}/secret"
        sources = tmp / "sources"
        for name, url in {**literal, **disguised}.items():
            write_source(sources, f"to-{name}", url)
        write_source(sources, "allowed", site.url("/terms"))
        (sources / "evil-discovery.yaml").write_text(DISCOVERY.format(listing=site.url("/listing.json")))
        db_file = tmp / "cw.db"
        out = run_cli("crawl", "--no-process", env=_env(sources, db_file, f"127.0.0.1:{site.port}"))
        yield {"out": out, "db": db_file, "literal": literal, "disguised": disguised, "target": target}


@fault("local and private addresses", "sources on 127.0.0.1, localhost, [::1], 10.0.0.1, 169.254.169.254, 0.0.0.0, "
       "[::ffff:127.0.0.1], and the disguised 2130706433, 0x7f000001, 127.1 and this machine's name",
       "refused (literal addresses when planned, disguised ones when resolved); the server never hit")
def test_local_addresses_are_refused_unless_allowed(policy, observed):
    out, db_file = policy["out"], policy["db"]
    assert out.returncode == 0, out.stderr[-2000:]
    for name in policy["literal"]:
        assert f"skipped to-{name}: refused: " in out.stderr and "local or private address" in out.stderr
        assert fetches_of(db_file, f"to-{name}") == []
    refused = {}
    for name in policy["disguised"]:
        rows = fetches_of(db_file, f"to-{name}")
        assert len(rows) == 1 and rows[0]["outcome"] == "error", (name, rows)
        refused[name] = rows[0]["error"]
        assert "refused" in rows[0]["error"] and "local or private address" in rows[0]["error"], rows[0]["error"]
    observed(f"{len(policy['literal'])} refused when planned, {len(refused)} when resolved, e.g. "
             f"{refused['decimal'].split(': ', 1)[1]}; {len(policy['target'].hits)} hits")
    assert policy["target"].hits == []


@fault("allow list", "CLAUSEWATCH_ALLOW_LOCAL=127.0.0.1:<one port>", "that origin is crawled; the same address on "
       "another port, also disguised as 2130706433, is still refused")
def test_allow_list_is_exact(policy, observed):
    outcome = fetches_of(policy["db"], "allowed")[0]["outcome"]
    observed(f"allowed origin: {outcome}; other port: {len(policy['target'].hits)} hits")
    assert outcome == "new_version" and policy["target"].hits == []
    assert "skipped to-loopback: refused" in policy["out"].stderr
    assert "refused" in fetches_of(policy["db"], "to-decimal")[0]["error"]


@fault("discovered sources", "a discovery listing names a URL on a local origin that is not allowed",
       "the discovered source is refused like a declared one; the allowed one is fetched")
def test_discovered_sources_obey_the_url_policy(policy, observed):
    found1, found2 = fetches_of(policy["db"], "found-1"), fetches_of(policy["db"], "found-2")
    observed(f"found-1: {found1[0]['error'] if found1 else '-'}; found-2: {found2[0]['outcome'] if found2 else '-'}")
    assert found1[0]["outcome"] == "error" and "local or private address" in found1[0]["error"]
    assert found2[0]["outcome"] == "new_version"
    assert policy["target"].hits == []


def test_url_policy_rules():
    assert url_refusal("https://example.org/terms", allow_local="") is None
    assert "scheme 'file'" in url_refusal("file:///etc/passwd", allow_local="1")
    assert "scheme 'gopher'" in url_refusal("gopher://example.org/", allow_local="1")
    assert "no host" in url_refusal("http:///etc", allow_local="1")
    for url in ("http://127.0.0.1/", "http://[::1]/", "http://10.1.2.3/", "http://192.168.0.1/", "http://172.16.0.1/",
                "http://169.254.169.254/", "http://0.0.0.0/", "http://[fe80::1]/", "http://[fd00::1]/",
                "http://100.64.0.1/", "http://[::ffff:10.0.0.1]/", "http://localhost/", "http://api.localhost/",
                "http://LOCALHOST./"):
        assert "local or private" in url_refusal(url, allow_local=""), url
        assert url_refusal(url, allow_local="1") is None
    assert local_allowance("yes") == ALLOW_ALL and local_allowance(True) == ALLOW_ALL
    assert local_allowance("0") == frozenset() and local_allowance(False) == frozenset()
    allow = local_allowance("127.0.0.1:8080, intranet.example")
    assert url_refusal("http://127.0.0.1:8080/x", allow_local=allow) is None
    assert url_refusal("http://127.0.0.1:8081/x", allow_local=allow)
    assert url_refusal("http://127.0.0.1/x", allow_local=allow)
    assert address_refusal("intranet.example", "10.0.0.7", allow) is None
    assert address_refusal("evil.example", "10.0.0.7", allow)
    assert address_refusal("evil.example", "93.184.216.34", frozenset()) is None
    replay = UrlPolicyMiddleware(replay=True)
    assert replay.process_request(type("R", (), {"url": "http://127.0.0.1:1/x"})()) is None


# ---------------------------------------------------------------- secrets

@fault("secrets not logged", "CLAUSEWATCH_SMTP_PASSWORD and smtp_password in the config file set to a secret; "
       "a crawl at DEBUG log level; subscribing while the SMTP server is down",
       "the secret appears in no output and not in the database")
def test_secrets_never_appear_in_crawl_logs_or_cli_output(tmp_path, observed):
    config = tmp_path / "clausewatch.toml"
    config.write_text(f'[clausewatch]\nsmtp_password = "{SECRET}-config"\nsmtp_user = "mailer"\n')
    with socket.socket() as probe:   # a port nobody listens on: the SMTP server is down
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    with FaultServer() as site:
        sources = tmp_path / "sources"
        write_source(sources, "terms", site.route("/terms", ok(LICENCE)))
        db_file = tmp_path / "cw.db"
        env = {**_env(sources, db_file, f"127.0.0.1:{site.port}"), "CLAUSEWATCH_CONFIG": str(config),
               "CLAUSEWATCH_SMTP_PASSWORD": SECRET, "CLAUSEWATCH_LOG_LEVEL": "DEBUG",
               "CLAUSEWATCH_SMTP_HOST": "127.0.0.1", "CLAUSEWATCH_SMTP_PORT": str(dead_port),
               "CLAUSEWATCH_SMTP_TIMEOUT": "2"}
        env_config_only = {k: v for k, v in env.items() if k != "CLAUSEWATCH_SMTP_PASSWORD"}
        runs = [run_cli("crawl", "--no-process", env=env),
                run_cli("subscribe", "--email", "ada@example.org", "--family", "terms", env=env),
                run_cli("subscribe", "--email", "bob@example.org", "--family", "terms", env=env_config_only)]
    assert runs[0].returncode == 0 and "DEBUG" in runs[0].stderr, runs[0].stderr[-2000:]
    for run in runs[1:]:
        assert run.returncode == 2 and "could not send the confirmation mail" in run.stderr, run.stderr
    output = "".join(r.stdout + r.stderr for r in runs)
    observed(f"{len(runs)} commands, {len(output):,} characters of output, "
             f"{output.count(SECRET)} occurrences of the secret")
    assert SECRET not in output
    for path in tmp_path.glob("cw*.db*"):
        assert SECRET.encode() not in path.read_bytes(), path


# ---------------------------------------------------------------- the subscription side (public functions)

@fault("email header injection", "addresses with CR/LF, NUL, U+2028, several recipients; a subject with CR/LF",
       "addresses refused with a reason; subjects folded to one line")
def test_email_header_injection_is_refused(observed):
    from clausewatch.digest.addresses import AddressError, validate_email
    from clausewatch.digest.messages import header_text

    refused = []
    for address in ("ada@example.org\r\nBcc: all@example.org", "ada@example.org\nBcc: x@example.org",
                    "ada@example.org\0", "ada@example.org\u2028Bcc: x@example.org", "ada@example.org, eve@example.org",
                    "Ada <ada@example.org>", "ada@example.org%0d%0aBcc:x@example.org"):
        with pytest.raises(AddressError) as err:
            validate_email(address)
        refused.append(str(err.value))
    assert all("\n" not in r and "\r" not in r for r in refused)
    subject = header_text("Licence changed\r\nBcc: everyone@example.org\r\n\r\nbody")
    observed(f"{len(refused)} addresses refused; subject -> {subject!r}")
    assert "\r" not in subject and "\n" not in subject


@fault("webhook SSRF", "webhook URLs on file:, gopher:, loopback, private, link-local, IPv4-mapped, decimal and short "
       "forms, and a 302 to a second local server", "refused unless webhook_allow_local; redirects never followed")
def test_webhook_ssrf_is_refused_and_redirects_not_followed(observed, monkeypatch):
    from clausewatch.digest import webhook
    from clausewatch.digest.addresses import AddressError, check_webhook_url

    monkeypatch.delenv("CLAUSEWATCH_WEBHOOK_ALLOW_LOCAL", raising=False)
    for url in ("file:///etc/passwd", "gopher://example.org/", "http://127.0.0.1/hook", "http://[::1]/hook",
                "http://10.0.0.1/hook", "http://169.254.169.254/latest", "http://[::ffff:127.0.0.1]/hook",
                "http://2130706433/hook", "http://127.1/hook", "http://localhost/hook", "http://0.0.0.0/hook"):
        with pytest.raises(AddressError):
            check_webhook_url(url)
    with FaultServer() as hook, FaultServer() as inner:
        inner.route("/admin", ok("internal"))
        hook.route("/hook", lambda handler, hit: handler.send_raw(302, {"Location": inner.url("/admin"),
                                                                       "Content-Length": "0"}))
        with pytest.raises(webhook.WebhookError) as err:
            webhook.post(hook.url("/hook"), b"{}", secret="s", delivery_id="d1", timeout=5, allow_local=True)
        observed(f"11 URLs refused; redirect: {err.value}")
        assert len(hook.hits) == 1 and inner.hits == []


@fault("tokens", "1,000 confirmation/unsubscribe tokens", ">= 128 random bits each, all distinct, stored hashed, "
       "compared with hmac.compare_digest")
def test_tokens_are_long_random_and_compared_in_constant_time(tmp_path, observed, monkeypatch):
    import base64

    from clausewatch.db import connect_private
    from clausewatch.digest import signup
    from clausewatch.digest import tokens as token_rules

    tokens = {token_rules.new_token() for _ in range(1000)}
    bits = min(len(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4))) * 8 for t in tokens)
    pdb = connect_private(tmp_path / "private.db")
    sub = signup.subscribe(pdb, None, channel="feed", address="", filters={})
    calls, original = [], hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return original(a, b)
    monkeypatch.setattr(token_rules.hmac, "compare_digest", spy)
    assert token_rules.find_by_token(pdb, sub.token, ("manage",))["id"] == sub.id
    assert token_rules.find_by_token(pdb, sub.token[:-2] + "xx", ("manage",)) is None
    observed(f"{len(tokens)} distinct tokens, >= {bits} bits; {len(calls)} constant-time comparisons")
    assert len(tokens) == 1000 and bits >= 128 and calls
    assert sub.token.encode() not in (tmp_path / "private.db").read_bytes()


@fault("public Datasette", "the published database next to a private one holding a subscription",
       "private tables unreachable (404/400, ATTACH refused), writes refused, subscriber not shown")
def test_public_datasette_is_read_only_and_has_no_private_data(tmp_path, observed):
    import asyncio

    from clausewatch.db import connect, connect_private
    from clausewatch.digest import signup
    from clausewatch.web.datasette_app import build_datasette

    public, private = tmp_path / "cw.db", tmp_path / "cw-private.db"
    connect(public).close()
    pdb = connect_private(private)
    signup.subscribe(pdb, None, channel="email", address="ada@example.org", filters={}, confirmed=True)
    pdb.close()
    ds = build_datasette(public)

    async def get(path: str, method: str = "GET"):
        return await ds.client.request(method, path)

    def status(path: str, method: str = "GET") -> int:
        return asyncio.run(get(path, method)).status_code

    answers = {
        "databases": [d["name"] for d in asyncio.run(get("/-/databases.json")).json()],
        "subscriptions table": status("/clausewatch/subscriptions"),
        "private database": status("/clausewatch-private"),
        "select from private": status("/clausewatch.json?sql=select+*+from+subscriptions"),
        "attach": status(f"/clausewatch.json?sql=attach+database+'{private}'+as+p"),
        "delete": status("/clausewatch.json?sql=delete+from+sources"),
        "insert API": status("/clausewatch/sources/-/insert", "POST"),
    }
    observed("; ".join(f"{k}: {v}" for k, v in answers.items()))
    assert answers["databases"] == ["clausewatch"]
    assert answers["subscriptions table"] == 404 and answers["private database"] == 404
    assert answers["select from private"] == 400 and answers["attach"] == 400
    assert answers["delete"] in (400, 403) and answers["insert API"] in (403, 405)
    assert "ada@example.org" not in asyncio.run(get("/clausewatch.json")).text
