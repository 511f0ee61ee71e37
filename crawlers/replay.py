"""Offline replay: serve a corpus folder laid out like ``../shared/corpus`` as if it were the web.

Mapping (documented in docs/replay.md):

* Each declared source lists corpus files in ``replay:``; MANIFEST.yaml gives each file's date.
* The spider rewrites a source URL ``https://host/path?query`` to
  ``http://127.0.0.1:PORT/host/path?query`` and sends the replay day in the ``X-Replay-As-Of`` header.
* For that URL the server answers with the newest of the source's files dated on or before the day
  (404 when none is), with ``ETag`` (the file's sha256) and ``Last-Modified`` (the file's date), and
  answers conditional requests with 304.
* A URL beside a mapped URL (``urljoin(url, NAME)``) serves file ``NAME`` beside the mapped file: this
  is how the parts of a Formex package are fetched.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import http.server
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import yaml

AS_OF_HEADER = "X-Replay-As-Of"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8", ".pdf": "application/pdf",
    ".xml": "application/xml", ".md": "text/markdown; charset=utf-8", ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}


class ReplayError(ValueError):
    pass


def default_corpus_dir() -> Path:
    env = os.environ.get("CLAUSEWATCH_CORPUS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "corpus"


@dataclass(frozen=True)
class ReplayFile:
    path: Path
    date: str          # YYYY-MM-DD (a YYYY-MM date is read as the first of the month)


def normalise_date(value: object) -> str:
    text = str(value)
    if len(text) == 7:
        text += "-01"
    if len(text) == 4:
        text += "-01-01"
    dt.date.fromisoformat(text)
    return text


def load_manifest(corpus: Path) -> dict[str, dict]:
    manifest = corpus / "MANIFEST.yaml"
    if not manifest.is_file():
        raise ReplayError(f"{corpus}: no MANIFEST.yaml (is this a corpus folder?)")
    data = yaml.load(manifest.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    return {entry["path"]: entry for entry in data.get("files", [])}


def parse_token(token: str) -> tuple[str, int]:
    """A replay token "DAY" or "DAY~K" -> (day, K); a plain day includes every file of that day."""
    day, _, rank = token.partition("~")
    return day, int(rank) if rank.isdigit() else 10**6


def url_key(url: str) -> str:
    """A URL without its scheme: the replay server's lookup key."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")


def to_replay_url(url: str, base: str) -> str:
    return f"{base}/{url_key(url)}"


class ReplayMap:
    """URL key -> the dated corpus files that answer for it."""

    def __init__(self, corpus: Path, sources: Iterable[tuple[str, Iterable[str]]]):
        self.corpus = corpus
        manifest = load_manifest(corpus)
        order = {rel: i for i, rel in enumerate(manifest)}
        self.by_key: dict[str, list[ReplayFile]] = {}
        self.missing: list[str] = []
        for url, paths in sources:
            files = []
            for rel in paths:
                path = corpus / rel
                if not path.is_file():
                    self.missing.append(rel)
                    continue
                entry = manifest.get(rel, {})
                date = entry.get("date")
                if date is None:
                    date = dt.date.fromtimestamp(path.stat().st_mtime, dt.UTC).isoformat()
                files.append((normalise_date(date), order.get(rel, len(order)), ReplayFile(path, normalise_date(date))))
            if files:
                self.by_key[url_key(url)] = [f for _, _, f in sorted(files, key=lambda t: (t[0], t[1]))]

    def steps(self, url: str) -> list[str]:
        """The URL's history as replay tokens, oldest first: a day ("2024-02-21"), or "DAY~K" for the K-th
        of several files published the same day (the last of them is the plain day)."""
        files = self.by_key.get(url_key(url), [])
        tokens = []
        for i, f in enumerate(files):
            later_same_day = i + 1 < len(files) and files[i + 1].date == f.date
            rank = sum(1 for g in files[:i + 1] if g.date == f.date)
            tokens.append(f"{f.date}~{rank}" if later_same_day else f.date)
        return tokens

    def resolve(self, key: str, as_of: str | None) -> ReplayFile | None:
        files = self.by_key.get(key)
        if files is None:
            return self._sibling(key, as_of)
        if as_of is None:
            return files[-1]
        day, rank = parse_token(as_of)
        eligible = [f for f in files if f.date < day]
        eligible += [f for f in files if f.date == day][:rank]
        return eligible[-1] if eligible else None

    def _sibling(self, key: str, as_of: str | None) -> ReplayFile | None:
        for known in self.by_key:
            base = urljoin("http://" + known, ".")
            target = "http://" + key
            if target.startswith(base) and "/" not in target[len(base):]:
                mapped = self.resolve(known, as_of)
                if mapped is None:
                    return None
                sibling = mapped.path.parent / target[len(base):]
                if sibling.is_file() and sibling.parent == mapped.path.parent:
                    return ReplayFile(sibling, mapped.date)
        return None


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "clausewatch-replay/1"
    replay: ReplayMap

    def log_message(self, fmt: str, *args: object) -> None:  # quiet: the crawl reports progress
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server API)
        if self.path == "/robots.txt":
            return self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
        key = self.path.lstrip("/")
        as_of = self.headers.get(AS_OF_HEADER)
        found = self.replay.resolve(key, as_of)
        if found is None:
            return self._send(404, b"not in the replay corpus (or not yet published on that day)\n", "text/plain")
        body = found.path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:40] + '"'
        modified = email.utils.format_datetime(
            dt.datetime.fromisoformat(found.date).replace(tzinfo=dt.UTC), usegmt=True)
        headers = {"ETag": etag, "Last-Modified": modified}
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, b"", None, headers)
        ims = self.headers.get("If-Modified-Since")
        if ims and not self.headers.get("If-None-Match"):
            try:
                if email.utils.parsedate_to_datetime(ims) >= email.utils.parsedate_to_datetime(modified):
                    return self._send(304, b"", None, headers)
            except (TypeError, ValueError):
                pass
        ctype = CONTENT_TYPES.get(found.path.suffix.lower(), "application/octet-stream")
        self._send(200, body, ctype, headers)

    def _send(self, status: int, body: bytes, ctype: str | None, headers: dict | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    do_HEAD = do_GET


class _ThreadingServer(http.server.ThreadingHTTPServer):
    # http.server listens with a backlog of 5: a crawl opening 8 connections at once while this process is
    # busy (extracting, storing) overflows it, the kernel drops the SYN and the client retries a second
    # later; a crawl of unchanged documents then took 2-3 s instead of 1
    request_queue_size = 128
    daemon_threads = True


class ReplayServer:
    """A threaded HTTP server on 127.0.0.1 (a free port) serving a ReplayMap. Use as a context manager."""

    def __init__(self, replay: ReplayMap, host: str = "127.0.0.1", port: int = 0):
        handler = type("Handler", (_Handler,), {"replay": replay})
        self.httpd = _ThreadingServer((host, port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="replay-server", daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ReplayServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
