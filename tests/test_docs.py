"""Documentation cannot drift: every CLI command is in the README, every linked doc exists."""
from __future__ import annotations

import re

from clausewatch.cli import main
from tests.conftest import ROOT


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in main.commands if f"clausewatch {name}" not in readme]
    assert missing == [], f"commands missing from README.md: {missing}"


def test_readme_links_point_to_existing_files():
    readme = (ROOT / "README.md").read_text()
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target


def test_readme_names_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()
