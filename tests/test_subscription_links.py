"""The public site's write path (clausewatch.web.signup_pages): subscribe from the web, confirm and
unsubscribe. GETs never change anything; form posts need the page's CSRF token; mail clients' RFC 8058
one-click unsubscribe works without one. Driven through the real ASGI app of `clausewatch serve`."""
from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from clausewatch.config import private_db_path
from clausewatch.db import connect, connect_private
from clausewatch.web.app import PublicApp
from tests.fixtures.digest.support import SmtpServer, bodies, isolate, subscribe_json


@pytest.fixture
def instance(tmp_path, monkeypatch):
    env = isolate(tmp_path, monkeypatch)
    smtp = SmtpServer().start()
    try:
        for key, value in smtp.env().items():
            monkeypatch.setenv(key, value)
        connect(env["CLAUSEWATCH_DB"]).close()
        yield PublicApp(tmp_path / "cw.db"), smtp, tmp_path / "cw.db"
    finally:
        smtp.stop()


def client(app: PublicApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=("203.0.113.7", 4000)),
                             base_url="https://cw.example.org")


def rows(db_path) -> list[dict]:
    pdb = connect_private(private_db_path(db_path))
    return list(pdb.query("SELECT address, confirmed, unsubscribed_at, filters, cadence FROM subscriptions"))


def csrf_of(page: httpx.Response) -> str:
    found = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def confirm_token(smtp: SmtpServer) -> str:
    text, _ = bodies(smtp.messages[-1][2])
    link = re.search(r"https?://\S+/-/subscriptions/confirm\?token=([\w-]+)", text)
    assert link, text
    return link.group(1)


def test_a_confirm_link_only_shows_a_button_and_the_post_needs_the_csrf_token(instance):
    app, smtp, db_path = instance
    manage_token = subscribe_json("--email", "ada@example.org")["token"]
    token = confirm_token(smtp)

    async def journey():
        async with client(app) as web:
            shown = await web.get(f"/-/subscriptions/confirm?token={token}")   # a mail prefetcher does this
            assert shown.status_code == 200 and "<form" in shown.text and rows(db_path)[0]["confirmed"] == 0
            forged = await web.post("/-/subscriptions/confirm", data={"token": token, "csrftoken": "x" * 40})
            assert forged.status_code == 403 and rows(db_path)[0]["confirmed"] == 0
            cross_site = await web.post("/-/subscriptions/confirm", headers={"origin": "https://evil.example"},
                                        data={"token": token, "csrftoken": csrf_of(shown)})
            assert cross_site.status_code == 403 and rows(db_path)[0]["confirmed"] == 0
            done = await web.post("/-/subscriptions/confirm", data={"token": token, "csrftoken": csrf_of(shown)})
            assert done.status_code == 200 and "confirmed" in done.text
            assert rows(db_path)[0]["confirmed"] == 1
            again = await web.get("/-/subscriptions/confirm?token=not-a-real-token-at-all-0000000000")
            bad = await web.post("/-/subscriptions/confirm", data={"token": "not-a-real-token-at-all-0000000000",
                                                                   "csrftoken": csrf_of(again)})
            assert bad.status_code == 400

            # the confirmation token does not unsubscribe
            one_click = await web.post(f"/-/subscriptions/unsubscribe?token={token}",
                                       data={"List-Unsubscribe": "One-Click"})
            assert one_click.status_code == 400 and rows(db_path)[0]["unsubscribed_at"] is None

            # unsubscribe: GET shows a button, mail clients' one-click POST ends it
            shown = await web.get(f"/-/subscriptions/unsubscribe?token={manage_token}")
            assert shown.status_code == 200 and "<form" in shown.text and rows(db_path)[0]["unsubscribed_at"] is None
            done = await web.post(f"/-/subscriptions/unsubscribe?token={manage_token}",
                                  data={"List-Unsubscribe": "One-Click"})
            assert done.status_code == 200 and "Unsubscribed" in done.text
            assert rows(db_path)[0]["unsubscribed_at"] is not None

    asyncio.run(journey())


def test_subscribing_from_the_web_starts_the_double_opt_in(instance):
    app, smtp, db_path = instance

    async def journey():
        async with client(app) as web:
            form = await web.get("/-/subscribe")
            assert form.status_code == 200 and 'name="email"' in form.text and 'name="cadence"' in form.text
            no_token = await web.post("/-/subscribe", data={"email": "grace@example.org"})
            assert no_token.status_code == 403 and rows(db_path) == [] and smtp.messages == []
            typo = await web.post("/-/subscribe", data={"email": "grace@example.org", "csrftoken": csrf_of(form),
                                                        "family": "no-such-family"})
            assert typo.status_code == 400 and "no-such-family" in typo.text and rows(db_path) == []
            sent = await web.post("/-/subscribe", data={"email": "grace@example.org", "csrftoken": csrf_of(form),
                                                        "jurisdiction": "global", "cadence": "weekly"})
            assert sent.status_code == 200 and "confirmation link" in sent.text
        [row] = rows(db_path)
        assert row["address"] == "grace@example.org" and row["confirmed"] == 0 and row["cadence"] == "weekly"
        assert '"jurisdiction": ["global"]' in row["filters"]
        assert smtp.messages[-1][1] == ["grace@example.org"] and confirm_token(smtp)

    asyncio.run(journey())


def test_the_web_form_is_rate_limited(instance):
    app, smtp, db_path = instance

    async def journey():
        async with client(app) as web:
            csrf = csrf_of(await web.get("/-/subscribe"))
            answers = [(await web.post("/-/subscribe", data={"email": f"user{k}@example.org",
                                                             "csrftoken": csrf})).status_code for k in range(7)]
        return answers

    answers = asyncio.run(journey())
    assert answers[:5] == [200] * 5 and answers[5:] == [429, 429]
    assert len(rows(db_path)) == 5 and len(smtp.messages) == 5


def test_datasette_stays_read_only_beside_the_write_path(instance):
    app, _, _ = instance

    async def journey():
        async with client(app) as web:
            assert (await web.post("/clausewatch/sources/-/insert", json={"row": {}})).status_code == 405
            assert (await web.request("PUT", "/-/subscriptions/confirm")).status_code == 405
            assert (await web.get("/-/databases.json")).json()[0]["name"] == "clausewatch"

    asyncio.run(journey())
