"""Broken and hostile documents, crawled for real: a recorded error or a sane version, never a crash, never an
empty version; a licence replaced by a maintenance, captcha or login page is held for review.

Phase 1 serves a good document for every source, phase 2 its fault, phase 3 (replacement pages only) the
good document again.
"""
from __future__ import annotations

import io
import random
import zlib

import pytest

pytest.register_assert_rewrite("tests.faultserver")

from tests.conftest import run_cli, write_source  # noqa: E402
from tests.faultserver import (  # noqa: E402
    FAST_CRAWL_ENV,
    FaultServer,
    by_phase,
    fault,
    fetches_of,
    held_of,
    ok,
    query,
    source_row,
    versions_of,
)

pytest_plugins = ["tests.faultserver"]  # fixtures: observed, and the fault matrix row of each test

CLAUSES = [
    "Example Model Licence",
    "1. Grant. You may use, copy, modify and distribute the Model for any lawful purpose.",
    "2. Restrictions. You must not use the Model to develop weapons or to harm people.",
    "3. Attribution. You must keep this Licence with every copy of the Model you distribute.",
    "4. Warranty. The Model is provided as is, without warranty of any kind.",
    "5. Termination. This Licence ends if you breach its terms; sections 2 and 4 survive.",
]
CLAUSES_V2 = [c.replace("any lawful purpose", "any lawful purpose, including commercial use") for c in CLAUSES]
HTML = "<!DOCTYPE html><html><head><title>Licence</title></head><body><nav>Home | Models | Docs</nav><main>{}</main>" \
       "<footer>Example Corp</footer></body></html>"
MAINTENANCE = ("<html><head><title>Maintenance</title></head><body><h1>We'll be back soon</h1>"
               "<p>Our site is under maintenance. Please try again in a few minutes.</p></body></html>")
CAPTCHA = ("<html><head><title>Just a moment...</title></head><body><main><h1>Checking your browser</h1>"
           "<p>Please verify you are a human to continue. Complete the CAPTCHA below.</p></main></body></html>")
LOGIN = ("<html><head><title>Sign in</title></head><body><main><h1>Sign in to continue</h1><form><p>Email</p>"
         "<p>Password</p><p>Forgot your password?</p></form></main></body></html>")
SOFT_404 = ("<html><head><title>Oops</title></head><body><main><h1>Page not found</h1><p>The page you are looking "
            "for does not exist. Return to the home page.</p></main></body></html>")
UNRELATED = "<html><body><main><h1>Welcome</h1><p>Discover our new smartphones, tablets and gift cards today.</p>" \
            "</main></body></html>"


def html(clauses: list[str]) -> bytes:
    blocks = [f"<h1>{clauses[0]}</h1>"] + [f"<p>{c}</p>" for c in clauses[1:]]
    return HTML.format("".join(blocks)).encode()


# ---------------------------------------------------------------- PDFs built here (no binary fixtures)

def build_pdf(content: bytes, extra: dict[int, bytes] | None = None, resources: bytes = b"") -> bytes:
    """A minimal one-page PDF with a correct xref table."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        4: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> "
           + resources + b" >> /Contents 5 0 R >>",
        5: b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        **(extra or {}),
    }
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n")
    xref, size = out.tell(), max(objects) + 1
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    for number in range(1, size):
        out.write(b"%010d 00000 n \n" % offsets[number])
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))
    return out.getvalue()


def text_pdf(clauses: list[str]) -> bytes:
    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    lines = [b"BT /F1 10 Tf 60 740 Td 15 TL"]
    lines += [f"({escape(c)}) Tj T* T*".encode("latin-1") for c in clauses]
    return build_pdf(b"\n".join(lines + [b"ET"]))


def scanned_pdf() -> bytes:
    """A page that is only an image: what a scanner produces without OCR."""
    pixels = zlib.compress(bytes((x * 37 + y * 11) % 256 for y in range(64) for x in range(64)))
    image = (b"<< /Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray /BitsPerComponent 8 "
             b"/Filter /FlateDecode /Length %d >>\nstream\n" % len(pixels) + pixels + b"\nendstream")
    return build_pdf(b"q 400 0 0 400 100 300 cm /Im1 Do Q", {6: image}, b"/XObject << /Im1 6 0 R >>")


def encrypted_pdf(plain: bytes, user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# ---------------------------------------------------------------- the crawl

def _cases() -> dict[str, tuple[str, object]]:
    good_pdf, good_html = text_pdf(CLAUSES), html(CLAUSES)
    pdf, htm = "application/pdf", "text/html; charset=utf-8"
    rnd = random.Random(7)
    garbage = bytes(rnd.randrange(256) for _ in range(30_000))
    huge_line = " ".join(CLAUSES_V2[1:]).encode() * 2500          # ~500 KB, not one line break
    malformed = (b"<html><body><main><h1>Example Model Licence<p>1. Grant. You may use, copy <b>modify <i>and</b> "
                 b"distribute</i> the Model for any lawful purpose, including commercial use.<div><p>2. "
                 b"Restrictions. You must not use the Model to develop weapons.</td></tr></table><p>3. Keep this "
                 b"Licence<!-- a comment that never ends")
    xml_good = ('<?xml version="1.0"?><licence><title>Example Model Licence</title>'
                + "".join(f"<clause>{c}</clause>" for c in CLAUSES[1:]) + "</licence>").encode()
    xml_bad = xml_good.replace(b"</clause><clause>", b"<clause>", 2)[:-3]
    return {
        "pdf-encrypted": ("pdf", by_phase(ok(good_pdf, pdf), ok(encrypted_pdf(text_pdf(CLAUSES_V2), "secret"), pdf))),
        "pdf-owner-password-only": ("pdf", by_phase(ok(good_pdf, pdf),
                                                    ok(encrypted_pdf(text_pdf(CLAUSES_V2), ""), pdf))),
        "pdf-scanned": ("pdf", by_phase(ok(good_pdf, pdf), ok(scanned_pdf(), pdf))),
        "pdf-truncated": ("pdf", by_phase(ok(good_pdf, pdf), ok(text_pdf(CLAUSES_V2)[:400], pdf))),
        "pdf-is-html": ("pdf", by_phase(ok(good_pdf, pdf), ok(LOGIN, htm))),
        "html-malformed": ("html", by_phase(ok(good_html, htm), ok(malformed, htm))),
        "xml-malformed": ("xml", by_phase(ok(xml_good, "application/xml"), ok(xml_bad, "application/xml"))),
        "huge-line": ("text", by_phase(ok(" ".join(CLAUSES)), ok(huge_line))),
        "binary-garbage": ("html", by_phase(ok(good_html, htm), ok(garbage, htm))),
        "maintenance-page": ("html", by_phase(ok(good_html, htm), ok(MAINTENANCE, htm), ok(good_html, htm))),
        "captcha-page": ("html", by_phase(ok(good_html, htm), ok(CAPTCHA, htm), ok(good_html, htm))),
        "login-page": ("html", by_phase(ok(good_html, htm), ok(LOGIN, htm), ok(good_html, htm))),
        "soft-404-page": ("html", by_phase(ok(good_html, htm), ok(SOFT_404, htm), ok(good_html, htm))),
        "unrelated-page": ("html", by_phase(ok(good_html, htm), ok(UNRELATED, htm), ok(good_html, htm))),
        "interstitial-first": ("html", by_phase(ok(CAPTCHA, htm), ok(good_html, htm), ok(good_html, htm))),
        "legit-edit": ("html", by_phase(ok(good_html, htm), ok(html(CLAUSES_V2), htm))),
        "legit-shrink": ("html", by_phase(ok(good_html, htm), ok(html(CLAUSES[:2]), htm))),
    }


HELD = ["maintenance-page", "captcha-page", "login-page", "soft-404-page", "unrelated-page"]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults-docs")
    server = FaultServer().start()
    try:
        sources = tmp / "sources"
        for sid, (fmt, behaviour) in _cases().items():
            write_source(sources, sid, server.route(f"/{sid}", behaviour), fmt=fmt)
        db = tmp / "cw.db"
        env = {**FAST_CRAWL_ENV, "CLAUSEWATCH_MAX_BYTES": str(2 * 1024 * 1024), "CLAUSEWATCH_SOURCES": str(sources),
               "CLAUSEWATCH_DB": str(db), "CLAUSEWATCH_ALLOW_LOCAL": f"{server.host}:{server.port}"}
        outputs = []
        for phase in (1, 2, 3):
            server.phase = phase
            only = [] if phase < 3 else [arg for sid in HELD for arg in ("--source", sid)]
            outputs.append(run_cli("crawl", "--no-process", *only, env=env, timeout=120))
        runs = query(db, "SELECT * FROM crawl_runs ORDER BY id")
        yield {"db": db, "outputs": outputs, "runs": runs}
    finally:
        server.stop()


def fetch_in(crawled, sid: str, phase: int) -> dict:
    run_id = crawled["runs"][phase - 1]["id"]
    rows = [f for f in fetches_of(crawled["db"], sid) if f["run_id"] == run_id]
    assert len(rows) == 1, rows
    return rows[0]


def test_the_crawls_never_crash(crawled):
    for proc in crawled["outputs"]:
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert query(crawled["db"], "SELECT COUNT(*) AS n FROM versions WHERE trim(text) = ''")[0]["n"] == 0


ERRORS = {
    "pdf-encrypted": ("encrypted PDF", "a PDF that needs a password to open", "encrypted"),
    "pdf-scanned": ("scanned PDF", "a PDF whose page is an image (no text layer)", "no text layer"),
    "pdf-truncated": ("truncated PDF", "the first 400 bytes of a PDF", "truncated"),
    "pdf-is-html": ("PDF replaced by HTML", "a login page served for a source declared pdf", "declared pdf"),
    "xml-malformed": ("malformed XML", "XML with unclosed elements and a cut end", "malformed XML"),
    "binary-garbage": ("binary garbage", "30 KB of random bytes served as text/html", "binary"),
}


@pytest.mark.parametrize("sid", list(ERRORS))
@fault("broken documents", "encrypted, scanned (image-only), truncated PDF; HTML for a PDF; malformed XML; "
       "random bytes", "a recorded error naming the problem; the last good version kept")
def test_broken_document_is_a_recorded_error(crawled, observed, sid):
    fetch, source = fetch_in(crawled, sid, 2), source_row(crawled["db"], sid)
    observed(f"{ERRORS[sid][0]}: {fetch['outcome']}: {fetch['error']}")
    assert fetch["outcome"] == "error" and ERRORS[sid][2] in fetch["error"], fetch["error"]
    assert source["status"] == "error"
    assert len(versions_of(crawled["db"], sid)) == 1


SANE = {
    "pdf-owner-password-only": ("PDF with an owner password only", "commercial use"),
    "html-malformed": ("malformed HTML", "commercial use"),
    "huge-line": ("one huge line", "commercial use"),
}


@pytest.mark.parametrize("sid", list(SANE))
@fault("odd but readable documents", "a PDF encrypted with an empty user password; HTML with unclosed and "
       "misnested tags; a 500 KB text without a line break", "a sane new version with the document's words")
def test_odd_document_gives_a_sane_version(crawled, observed, sid):
    fetch = fetch_in(crawled, sid, 2)
    stored = versions_of(crawled["db"], sid)
    observed(f"{SANE[sid][0]}: {fetch['outcome']} ({stored[-1]['chars']:,} chars)")
    assert fetch["outcome"] == "new_version" and len(stored) == 2
    assert SANE[sid][1] in stored[-1]["text"] and "Restrictions" in stored[-1]["text"]


@pytest.mark.parametrize("sid", HELD)
@fault("replacement page", "the licence replaced by a maintenance, captcha, login, 'page not found' or unrelated page",
       "held for review (held_versions), not a version; the licence back -> no new version")
def test_replacement_page_is_held_not_recorded(crawled, observed, sid):
    db = crawled["db"]
    fetch, held = fetch_in(crawled, sid, 2), held_of(db, sid)
    observed(f"{fetch['outcome']}: {held[0]['reason'] if held else '-'}")
    assert fetch["outcome"] == "held" and len(held) == 1 and held[0]["fetch_id"] == fetch["id"]
    assert len(versions_of(db, sid)) == 1
    back = fetch_in(crawled, sid, 3)
    assert back["outcome"] == "unchanged" and source_row(db, sid)["status"] == "ok"
    assert len(versions_of(db, sid)) == 1


@fault("interstitial on the first fetch", "a captcha page where a new source's licence should be",
       "held, no first version; the real licence later becomes version 1")
def test_interstitial_on_the_first_fetch_is_held(crawled, observed):
    first, second = fetch_in(crawled, "interstitial-first", 1), fetch_in(crawled, "interstitial-first", 2)
    observed(f"{first['outcome']}, then {second['outcome']}")
    assert first["outcome"] == "held" and second["outcome"] == "new_version"
    assert [v["seq"] for v in versions_of(crawled["db"], "interstitial-first")] == [1]


@pytest.mark.parametrize("sid", ["legit-edit", "legit-shrink"])
@fault("real changes are not held", "a one-clause edit; the licence cut to its title and first clause",
       "recorded as new versions (the guard does not hold real changes)")
def test_real_changes_are_not_held(crawled, observed, sid):
    fetch = fetch_in(crawled, sid, 2)
    observed(fetch["outcome"])
    assert fetch["outcome"] == "new_version" and held_of(crawled["db"], sid) == []


def test_guard_holds_only_replacement_pages():
    from clausewatch.crawlers.guards import content_refusal, replacement_reason

    licence = "\n\n".join(CLAUSES) * 20
    mentions = licence + "\n\n6. Availability. The service may be temporarily unavailable; no captcha is used."
    assert replacement_reason(None, mentions) is None            # a long licence that mentions the words
    assert replacement_reason(licence, mentions) is None
    assert replacement_reason(licence, licence[: len(licence) // 5]) is None   # cut, but the same words
    assert replacement_reason(licence, "Under maintenance. We'll be back soon.")
    assert replacement_reason(licence, "Discover our phones and tablets today, with free delivery.")
    assert replacement_reason(None, "Please verify you are a human")
    assert content_refusal("html", "image/png", b"\x89PNG\r\n\x1a\n") and content_refusal("text", None, b"PK\x03\x04")
    assert content_refusal("pdf", "application/octet-stream", b"%PDF-1.7 ...") is None
    assert content_refusal("text", "text/plain", b"MZ is a fine start for a licence text") is None
