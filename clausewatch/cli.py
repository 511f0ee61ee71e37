"""The ``clausewatch`` command: a thin click group over the commands of :mod:`clausewatch.commands`."""
from __future__ import annotations

import click

from clausewatch import __version__
from clausewatch.commands import COMMANDS


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="clausewatch")
def main() -> None:
    """Track the licences and policies of open-source and open-weight AI, clause by clause."""


for _command in COMMANDS:
    main.add_command(_command)


if __name__ == "__main__":
    main()
