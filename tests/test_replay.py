"""The replay server: as-of selection, conditional requests, siblings, robots.txt."""
from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from clausewatch.crawlers.replay import AS_OF_HEADER, ReplayError, ReplayMap, ReplayServer, to_replay_url
from clausewatch.stages.crawl import replay_steps
from tests.conftest import write_corpus

URL = "https://example.org/terms?lang=en"


@pytest.fixture
def tiny(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {
        "terms/2024-01-01.txt": ("2024-01-01", "Terms, first version.\n"),
        "terms/2025-03-01.txt": ("2025-03-01", "Terms, second version.\n"),
        "pkg/index.xml": ("2024-06-01", "<DOC/>"),
        "pkg/part1.xml": ("2024-06-01", "<PART/>"),
    })
    replay = ReplayMap(corpus, [(URL, ["terms/2024-01-01.txt", "terms/2025-03-01.txt"]),
                                ("https://pkg.example/res/DOC_1", ["pkg/index.xml"])])
    with ReplayServer(replay) as server:
        yield replay, server


def get(url: str, headers: dict | None = None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as resp:
            return resp.status, resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.read(), dict(err.headers)


def test_as_of_serves_newest_file_on_or_before_the_day(tiny):
    replay, server = tiny
    url = to_replay_url(URL, server.base_url)
    assert get(url, {AS_OF_HEADER: "2024-06-01"})[1] == b"Terms, first version.\n"
    assert get(url, {AS_OF_HEADER: "2025-12-31"})[1] == b"Terms, second version.\n"
    assert get(url)[1] == b"Terms, second version.\n"
    assert get(url, {AS_OF_HEADER: "2023-01-01"})[0] == 404
    assert replay.steps(URL) == ["2024-01-01", "2025-03-01"]


def test_conditional_requests_answer_304(tiny):
    _, server = tiny
    url = to_replay_url(URL, server.base_url)
    status, _, headers = get(url)
    assert status == 200 and headers["ETag"] and headers["Last-Modified"]
    assert get(url, {"If-None-Match": headers["ETag"]})[0] == 304
    assert get(url, {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    assert get(url, {"If-None-Match": '"other"'})[0] == 200


def test_sibling_urls_serve_files_beside_the_mapped_file(tiny):
    _, server = tiny
    assert get(to_replay_url("https://pkg.example/res/part1.xml", server.base_url))[1] == b"<PART/>"
    assert get(to_replay_url("https://pkg.example/res/missing.xml", server.base_url))[0] == 404
    assert get(to_replay_url("https://other.example/part1.xml", server.base_url))[0] == 404


def test_robots_txt_allows_everything(tiny):
    _, server = tiny
    assert get(server.base_url + "/robots.txt")[1].startswith(b"User-agent: *")


def test_missing_corpus_files_are_reported(tmp_path):
    corpus = write_corpus(tmp_path, {"a.txt": ("2024-01-01", "x")})
    replay = ReplayMap(corpus, [(URL, ["a.txt", "gone.txt"])])
    assert replay.missing == ["gone.txt"]


def test_not_a_corpus_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ReplayError, match="MANIFEST.yaml"):
        ReplayMap(tmp_path, [])


def test_files_of_one_day_are_successive_steps(tmp_path):
    corpus = write_corpus(tmp_path, {"a-initial.txt": ("2024-01-01", "one"), "a.txt": ("2024-01-01", "two"),
                                     "b.txt": ("2024-02-01", "three")})
    replay = ReplayMap(corpus, [(URL, ["a.txt", "a-initial.txt", "b.txt"])])
    assert replay.steps(URL) == ["2024-01-01~1", "2024-01-01", "2024-02-01"]
    key = URL.split("://")[1]
    assert replay.resolve(key, "2024-01-01~1").path.name == "a-initial.txt"
    assert replay.resolve(key, "2024-01-01").path.name == "a.txt"
    assert replay.resolve(key, "2024-01-31").path.name == "a.txt"
    assert replay_steps(replay.steps(URL), "2024-01-01~1", "2024-03-01") == ["2024-01-01", "2024-02-01"]


def test_replay_steps_walk_history_then_check_once():
    dates = ["2024-01-01", "2025-03-01"]
    assert replay_steps(dates, None, "2026-01-01") == dates
    assert replay_steps(dates, "2025-03-01", "2026-01-01") == ["2026-01-01"]
    assert replay_steps(dates, None, "2024-06-01") == ["2024-01-01"]
    assert replay_steps(dates, "2024-06-01", "2025-12-31") == ["2025-03-01"]
