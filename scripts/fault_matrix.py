"""Write docs/reliability.md, the fault matrix, from a run of the fault-injection tests.

    .venv/bin/python scripts/fault_matrix.py                  # run the tests, write docs/reliability.md
    .venv/bin/python scripts/fault_matrix.py --junit FILE     # from an existing run: pytest FILES
                                                              #   -o junit_family=xunit1 --junitxml=FILE
    .venv/bin/python scripts/fault_matrix.py --check          # the document lists every declared case?

Each test declares its row with ``@fault(case, injected, expected)`` (tests/faultserver.py) and reports
what it saw with the ``observed`` fixture; both land in the JUnit XML as properties, with the outcome.
Exit status 1 when a case failed (or, with --check, when the document is out of date).
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST_FILES = ["tests/test_faults_http.py", "tests/test_faults_documents.py", "tests/test_faults_crash.py",
              "tests/test_faults_input.py", "tests/test_fuzz.py", "tests/test_security.py"]
OUTPUT = ROOT / "docs" / "reliability.md"
COMMAND = ".venv/bin/python scripts/fault_matrix.py"
GROUPS = {"test_faults_http": "HTTP faults", "test_faults_documents": "Documents",
          "test_faults_crash": "Crashes and storage", "test_faults_input": "Bad input and operator errors",
          "test_fuzz": "Fuzzing", "test_security": "Security"}


@dataclass
class Row:
    group: str
    case: str
    injected: str
    expected: str
    observed: list[str] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)

    @property
    def result(self) -> str:
        if any(o.startswith("FAIL") for o in self.outcomes):
            return "**FAIL**"
        if self.outcomes and all(o.startswith("skipped") for o in self.outcomes):
            return "skipped"
        return "pass" if self.outcomes else "not run"


@dataclass
class Run:
    rows: list[Row]
    others: list[tuple[str, str]]          # tests without a matrix row: (name, outcome)
    counts: dict[str, int]
    seconds: float


def run_tests(junit: Path) -> float:
    started = time.monotonic()
    # the check that this document is up to date is what this run is about to fix: leave it out
    subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "junit_family=xunit1",
                    f"--junitxml={junit}", "--deselect", f"{TEST_FILES[0]}::test_reliability_doc_lists_every_fault_case",
                    *TEST_FILES], cwd=ROOT)
    return time.monotonic() - started


def _outcome(case: ET.Element) -> str:
    for tag, label in (("failure", "FAIL"), ("error", "FAIL (error)")):
        node = case.find(tag)
        if node is not None:
            return f"{label}: {(node.get('message') or '').splitlines()[0][:160] if node.get('message') else ''}"
    skipped = case.find("skipped")
    if skipped is not None:
        return f"skipped: {skipped.get('message', '')[:160]}"
    return "pass"


def read_junit(path: Path, seconds: float | None = None) -> Run:
    tree = ET.parse(path)
    rows: dict[tuple[str, str], Row] = {}
    others: list[tuple[str, str]] = []
    counts = {"pass": 0, "FAIL": 0, "skipped": 0}
    suite_time = 0.0
    for suite in tree.iter("testsuite"):
        suite_time += float(suite.get("time") or 0)
    for case in tree.iter("testcase"):
        module = (case.get("classname") or "").split(".")[-1]
        outcome = _outcome(case)
        counts[outcome.split(":")[0].split(" ")[0]] = counts.get(outcome.split(":")[0].split(" ")[0], 0) + 1
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        if "fault_case" not in props:
            others.append((f"{module}::{case.get('name')}", outcome))
            continue
        key = (module, props["fault_case"])
        row = rows.setdefault(key, Row(GROUPS.get(module, module), props["fault_case"], props["fault_injected"],
                                       props["fault_expected"]))
        row.injected = row.injected or props["fault_injected"]   # a later test of the same case may describe it
        row.expected = row.expected or props["fault_expected"]
        row.outcomes.append(outcome)
        if props.get("fault_observed"):
            row.observed.append(props["fault_observed"])
        if outcome.startswith(("FAIL", "skipped")):
            row.observed.append(outcome)
    return Run(list(rows.values()), others, counts, seconds if seconds is not None else suite_time)


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").split())


def render(run: Run) -> str:
    today = dt.date.today().isoformat()
    total = sum(run.counts.values())
    lines = [
        "# Reliability: the fault matrix",
        "",
        f"Generated by `{COMMAND}` from a run of the fault-injection tests (`{'`, `'.join(TEST_FILES)}`);",
        "do not edit by hand. Regenerate after changing a fault test or the code it exercises; "
        f"`{COMMAND} --check` fails when a declared case is missing here.",
        "",
        f"Last run {today}: {run.counts.get('pass', 0)} of {total} tests passed, {run.counts.get('FAIL', 0)} failed, "
        f"{run.counts.get('skipped', 0)} skipped, in {run.seconds:.0f} s.",
        "",
        "Every HTTP and document case crawls for real: `clausewatch crawl` runs in a subprocess against",
        "`tests/faultserver.py`, a scripted hostile HTTP server on loopback addresses, and the test reads the",
        "database (`sources.status`, `fetches.outcome`/`error`, `versions`, `held_versions`). The *observed*",
        "column is what the test saw in that run.",
    ]
    group = None
    for row in sorted(run.rows, key=lambda r: list(GROUPS.values()).index(r.group) if r.group in GROUPS.values()
                      else 99):
        if row.group != group:
            group = row.group
            lines += ["", f"## {group}", "", "| case | injected | expected | observed | result |", "|---|---|---|---|---|"]
        observed = "; ".join(dict.fromkeys(row.observed)) or "-"
        lines.append(f"| {_cell(row.case)} | {_cell(row.injected)} | {_cell(row.expected)} | {_cell(observed)} | "
                     f"{row.result} |")
    if run.others:
        lines += ["", "## Supporting checks", "", "| test | result |", "|---|---|"]
        lines += [f"| `{_cell(name)}` | {_cell(outcome)} |" for name, outcome in run.others]
    lines += ["", NOTES]
    return "\n".join(lines).rstrip() + "\n"


NOTES = """## How the crawler handles faults

| setting (env) | default (live / replay) | tests use |
|---|---|---|
| `CLAUSEWATCH_TIMEOUT`: seconds for a whole download (connect to last byte) and a DNS lookup | 30 | 1 |
| `CLAUSEWATCH_MAX_BYTES`: body limit, also while a gzip/deflate/br body inflates | 50 MB | 200 KB |
| `CLAUSEWATCH_RETRY_TIMES`: retries of 5xx, 408, 429, timeouts and lost connections | 3 | 1 |
| `CLAUSEWATCH_RETRY_BASE_DELAY`: backoff `base * 2**attempt` when there is no Retry-After | 5 s / 0.2 s | 0.2 s |
| `CLAUSEWATCH_RETRY_MAX_DELAY`: a longer Retry-After is not waited for: recorded error | 300 s / 5 s | 3 s |
| `CLAUSEWATCH_DOWNLOAD_DELAY`: seconds between two requests to one host | 2 s / 0 | 0 |
| `CLAUSEWATCH_ALLOW_LOCAL`: `1`, or `host[:port],...`, crawlable local/private hosts | none (replay: all) | the fault servers' `127.0.0.1:PORT` |
| `CLAUSEWATCH_LOG_LEVEL`: Scrapy's own log lines (`INFO`, `DEBUG`) besides the progress lines | off | - |

- Every fetch attempt that reaches the store is one `fetches` row; a failure is `outcome = 'error'` (404 and
  410: `'gone'`) with one line for people in `error`, and the source's `status`, `last_error` and
  `consecutive_failures` say so. Nothing stored before is touched: versions are only ever added.
- An empty or whitespace-only body, or an extraction that yields no text, is an error, never an empty version.
  A body that cannot be the declared document (an image, an archive, gzip bytes, an executable) is refused
  before extraction (`crawlers/guards.py: content_refusal`).
- A page that reads like a maintenance, captcha, login or "not found" page, or that shrank below 30 % of the
  last version while sharing less than half of its words, is stored in `held_versions` (fetch outcome `held`,
  source status `held`) for review, never as a version. A later fetch of the real document is compared with
  the last *version*, so it is `unchanged`.
- Redirects are followed (at most 5) through the same URL policy: a redirect to `file:` or to a local or
  private host is refused. Host names are checked again when they resolve (`crawlers.urlpolicy.PolicyResolver`),
  so `http://2130706433/`, `http://127.1/` or a public name pointing at `10.0.0.7` are refused too.
  `CLAUSEWATCH_ALLOW_LOCAL=127.0.0.1:8080` allows that origin only: the tests rely on it to let loopback
  ports stand for public hosts (the ones listed) and for the operator's network (the others).
- Each document is stored in one transaction (`db.documents.record_document`): a crash or `SIGKILL` loses at
  most the document being written, never half of it. When the database cannot be written (disk full, size
  limit) the crawl stops at once with `clausewatch: error: cannot write DB (database or disk is full) ...`,
  exits 2 and leaves what was stored intact; the next crawl fetches the rest.
- Known limits: a crawl killed by `SIGKILL` leaves its `crawl_runs` row `running` (the scheduler closes the
  runs it started; a manual crawl's row stays open); held pages have no command to accept them as a version
  yet; an extractor that hangs inside C code (PDFium, lxml) cannot be interrupted by the crawler."""


def declared_cases() -> set[str]:
    """Cases the test modules declare with ``@fault`` (imports the test modules, runs nothing)."""
    sys.path.insert(0, str(ROOT))
    cases = set()
    for file in TEST_FILES:
        module = importlib.import_module(file.removesuffix(".py").replace("/", "."))
        cases |= {fn.fault["case"] for fn in vars(module).values() if callable(fn) and hasattr(fn, "fault")}
    return cases


def check(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    return sorted(case for case in declared_cases() if f"| {_cell(case)} |" not in text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--junit", type=Path, help="read this JUnit XML (xunit1) instead of running the tests")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="only check that the document lists every case")
    args = parser.parse_args(argv)
    if args.check:
        missing = check(args.output)
        for case in missing:
            print(f"{args.output}: fault case {case!r} is missing; run `{COMMAND}`", file=sys.stderr)
        return 1 if missing else 0
    if args.junit:
        run = read_junit(args.junit)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            junit = Path(tmp) / "faults.xml"
            seconds = run_tests(junit)
            if not junit.is_file():
                print("fault_matrix: the test run wrote no JUnit XML", file=sys.stderr)
                return 2
            run = read_junit(junit, seconds)
    args.output.write_text(render(run), encoding="utf-8")
    failed = [r.case for r in run.rows if r.result == "**FAIL**"]
    print(f"wrote {args.output}: {len(run.rows)} cases, {len(failed)} failed"
          + (f" ({', '.join(failed)})" if failed else ""))
    return 1 if failed or run.counts.get("FAIL") else 0


if __name__ == "__main__":
    sys.exit(main())
