"""Protects the README's promise that a test or CI runs each command it shows."""

from __future__ import annotations

import re
from pathlib import Path

from tests import readme

TESTS = Path(__file__).parent
CI_RUN = TESTS.parent / ".ci" / "run"
FETCH = re.compile(r"""readme\.command\(\s*(?:"([^"]+)"|'([^']+)')""")


def fetched_by_tests() -> set[str]:
    """The README commands that tests fetch with readme.command(...) to run them."""
    quoted = [match for path in TESTS.glob("*.py") for match in FETCH.findall(path.read_text())]
    return {readme.command(double or single) for double, single in quoted}


def test_every_readme_command_is_run_by_a_test_or_by_ci():
    ci = CI_RUN.read_text()
    fetched = fetched_by_tests()
    unrun = [c for c in readme.commands() if c not in fetched and c not in ci]
    assert unrun == [], "README commands no test runs"


def test_the_readme_opens_with_the_two_commands():
    assert readme.commands()[:2] == ["make repro", "make test"]
    assert "make test" in CI_RUN.read_text().splitlines()


def test_commands_are_read_from_sh_blocks_only_without_comments():
    text = "intro\n```sh\nmake a   # a comment\n# a line of comment\nmake b \\\n  --flag\n```\n"
    text += "```text\nnot a command\n```\n"
    assert readme.commands(text) == ["make a", "make b --flag"]
