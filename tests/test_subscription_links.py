"""The confirm and unsubscribe links of subscription mails, served by `clausewatch serve`."""
from __future__ import annotations

import asyncio
import re

import pytest

from clausewatch.config import private_db_path
from clausewatch.db import connect, connect_private
from clausewatch.serve import build_datasette
from tests.fixtures.digest.support import SmtpServer, bodies, isolate, subscribe_json


@pytest.fixture
def instance(tmp_path, monkeypatch):
    env = isolate(tmp_path, monkeypatch)
    smtp = SmtpServer().start()
    for key, value in smtp.env().items():
        monkeypatch.setenv(key, value)
    connect(env["CLAUSEWATCH_DB"]).close()
    yield build_datasette(tmp_path / "cw.db"), smtp, tmp_path / "cw.db"
    smtp.stop()


def subscription(db_path):
    pdb = connect_private(private_db_path(db_path))
    return list(pdb.query("SELECT confirmed, unsubscribed_at FROM subscriptions"))[0]


def test_confirm_link_confirms_and_unsubscribe_needs_a_post(instance):
    asyncio.run(_confirm_and_unsubscribe(instance))


async def _confirm_and_unsubscribe(instance):
    ds, smtp, db_path = instance
    manage_token = subscribe_json("--email", "ada@example.org")["token"]
    text, _ = bodies(smtp.messages[-1][2])
    link = re.search(r"https?://\S+/-/subscriptions/confirm\?token=([\w-]+)", text)
    assert link, text
    assert subscription(db_path)["confirmed"] == 0

    page = await ds.client.get(f"/-/subscriptions/confirm?token={link.group(1)}")
    assert page.status_code == 200 and "confirmed" in page.text
    assert subscription(db_path)["confirmed"] == 1
    bad = await ds.client.get("/-/subscriptions/confirm?token=not-a-real-token-at-all-0000000000")
    assert bad.status_code == 400

    # the GET only shows a button: link scanners must not unsubscribe anyone
    unsub_token = manage_token
    shown = await ds.client.get(f"/-/subscriptions/unsubscribe?token={unsub_token}")
    assert shown.status_code == 200 and "<form" in shown.text
    assert subscription(db_path)["unsubscribed_at"] is None
    done = await ds.client.post(f"/-/subscriptions/unsubscribe?token={unsub_token}",
                                data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "Unsubscribed" in done.text
    assert subscription(db_path)["unsubscribed_at"] is not None


def test_other_writes_stay_refused(instance):
    asyncio.run(_other_writes(instance))


async def _other_writes(instance):
    ds, _, _ = instance
    assert (await ds.client.post("/clausewatch/sources/-/insert", json={"row": {}})).status_code == 405
    assert (await ds.client.post("/-/subscriptions/confirm?token=x")).status_code == 405
