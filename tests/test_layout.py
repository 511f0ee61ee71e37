"""The house rules, checked: which stage may import which, one namespace, docs that name real modules.

- ``clausewatch.db`` imports nothing else of ours;
- ``clausewatch.nlp``, ``clausewatch.changes`` and ``clausewatch.openness`` are pure: nothing of ours outside
  themselves (changes and openness may read nlp's data model), no database, network, files or processes;
- the Datasette plugins (``datasette/plugins``) import at most ``clausewatch.db``;
- ``clausewatch.crawlers`` imports only itself and ``clausewatch.db``; ``clausewatch.schedules`` only
  itself, ``clausewatch.db`` and the crawler registry (it runs commands, not stage internals);
- every package folder is installed under ``clausewatch`` and nothing is installed as ``db`` or ``nlp``;
- ``docs/architecture.md`` names only modules and folders that exist.
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

FOLDERS = {"clausewatch": "clausewatch", "clausewatch.crawlers": "crawlers", "clausewatch.nlp": "nlp",
           "clausewatch.db": "db", "clausewatch.schedules": "schedules", "clausewatch.changes": "changes",
           "clausewatch.openness": "openness"}
# modules that do I/O: a pure stage imports none of them
IMPURE = {"sqlite3", "sqlite_utils", "socket", "subprocess", "urllib.request", "http", "httpx", "requests",
          "scrapy", "twisted", "datasette", "smtplib", "shutil", "tempfile", "pathlib", "io", "os"}


def imports_of(path: Path) -> set[str]:
    """Every module a file imports (absolute names; relative imports resolved against its package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise AssertionError(f"{path}: relative import; write the absolute clausewatch.* name")
            base = node.module or ""
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def ours(names: set[str]) -> set[str]:
    return {n for n in names if n == "clausewatch" or n.startswith("clausewatch.")}


def files_of(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def violations(folder: str, allowed: tuple[str, ...], impure_ok: bool = True) -> list[str]:
    found = []
    for path in files_of(folder):
        names = imports_of(path)
        for name in sorted(ours(names)):
            if not any(name == a or name.startswith(a + ".") for a in allowed):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
        if not impure_ok:
            for name in sorted(names):
                if name.split(".")[0] in IMPURE or name in IMPURE:
                    found.append(f"{path.relative_to(ROOT)} imports {name} (I/O in a pure stage)")
    return found


@pytest.mark.parametrize(("folder", "allowed", "pure"), [
    ("db", ("clausewatch.db",), False),
    ("nlp", ("clausewatch.nlp",), True),
    ("changes", ("clausewatch.changes", "clausewatch.nlp.model"), True),
    ("openness", ("clausewatch.openness", "clausewatch.nlp.model"), True),
    ("datasette/plugins", ("clausewatch.db",), False),
    ("crawlers", ("clausewatch.crawlers", "clausewatch.db"), False),
    ("schedules", ("clausewatch.schedules", "clausewatch.db", "clausewatch.crawlers.registry"), False),
])
def test_import_rules(folder, allowed, pure):
    assert files_of(folder), f"{folder} has no modules"
    assert violations(folder, allowed, impure_ok=not pure) == []


def test_the_checker_catches_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import sqlite3\nfrom clausewatch.crawlers.registry import load_registry\n")
    assert ours(imports_of(bad)) == {"clausewatch.crawlers.registry", "clausewatch.crawlers.registry.load_registry"}
    assert "sqlite3" in imports_of(bad)


def test_every_package_folder_is_installed_under_clausewatch():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    declared, mapping = set(config["packages"]), config["package-dir"]
    assert {k: v for k, v in mapping.items()} == {k: v for k, v in FOLDERS.items() if k != "clausewatch"}
    expected = set()
    for package, folder in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            expected.add(".".join([package, *rel.parts]) if rel.parts else package)
    assert declared == expected
    assert not (ROOT / "datasette" / "__init__.py").exists(), "datasette/ would shadow the library"


def test_no_site_wide_packages_named_like_our_stages(tmp_path):
    code = ("import importlib.util, sys; "
            "print([n for n in ('db', 'nlp', 'crawlers', 'schedules', 'changes') if importlib.util.find_spec(n)])")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_command_line_starts_without_the_heavy_libraries(tmp_path):
    code = ("import sys, clausewatch.cli; "
            "print(sorted(m for m in ('scrapy', 'spacy', 'datasette', 'sqlite_utils', 'twisted') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


DOC_PATH = re.compile(r"`((?:clausewatch|crawlers|nlp|db|schedules|changes|openness|datasette|tests|bench|scripts|deploy|docs)"
                      r"/[\w./*-]*)`")
DOC_MODULE = re.compile(r"`(clausewatch(?:\.\w+)+)")


def module_file(dotted: str) -> tuple[Path | None, list[str]]:
    """The file of the longest module prefix of ``dotted`` and the attribute names left after it."""
    parts = dotted.split(".")
    package = ".".join(parts[:2])
    base, rest = (ROOT / FOLDERS[package], parts[2:]) if package in FOLDERS else (ROOT / "clausewatch", parts[1:])
    for cut in range(len(rest), -1, -1):
        target = base.joinpath(*rest[:cut])
        for candidate in (target.with_suffix(".py"), target / "__init__.py"):
            if cut and candidate.is_file() or not cut and candidate.name == "__init__.py" and candidate.is_file():
                return candidate, rest[cut:]
    return None, rest


def defines(path: Path, name: str) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return True
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
        if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == name for a in node.names):
            return True
    return False


def test_module_names_resolve_to_files():
    assert module_file("clausewatch.changes.align.compare") == (ROOT / "changes" / "align.py", ["compare"])
    assert module_file("clausewatch.db")[0] == ROOT / "db" / "__init__.py"
    assert module_file("clausewatch.commands.diff")[0] == ROOT / "clausewatch" / "commands" / "diff.py"
    path, rest = module_file("clausewatch.changes.no_such_thing")
    assert not defines(path, rest[0])


def test_the_architecture_doc_names_only_modules_that_exist():
    doc = (ROOT / "docs" / "architecture.md").read_text()
    paths, modules = DOC_PATH.findall(doc), DOC_MODULE.findall(doc)
    assert len(paths) > 20 and len(modules) > 5, "the doc names the modules of each stage"
    missing = [p for p in paths if not list(ROOT.glob(p.rstrip("/")))]
    for name in modules:
        path, rest = module_file(name)
        if path is None or (rest and not defines(path, rest[0])):
            missing.append(name)
    assert missing == []
    named = {p.rstrip("/") for p in paths}
    undocumented = [rel for folder in FOLDERS.values() for f in sorted((ROOT / folder).rglob("*.py"))
                    if f.name != "__init__.py"
                    for rel in [str(f.relative_to(ROOT))]
                    if rel not in named and not any(Path(rel).match(n) for n in named if "*" in n)]
    assert undocumented == [], "modules the architecture doc does not mention"
