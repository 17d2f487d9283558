"""The commands the README and docs/ show, for the tests that run them.

A command is a line of a ```sh block in README.md or a page of docs/,
without its trailing comment. Tests fetch the ones they run with
:func:`command`, so a test runs what the pages say, and tests/test_readme.py
fails when a page shows a command that no test fetches.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


def commands(text: str | None = None) -> list[str]:
    """Every command in the sh blocks of the README and docs/ (or of ``text``),
    in order, each once."""
    if text is None:
        text = "\n".join(page.read_text(encoding="utf-8") for page in PAGES)
    found: list[str] = []
    for block in BLOCK.findall(text):
        for line in block.replace("\\\n", " ").splitlines():  # join continued lines
            command = " ".join(re.sub(r"\s+#\s.*$", "", line).split())
            if command and not command.startswith("#") and command not in found:
                found.append(command)
    return found


def command(start: str, filled: dict[str, str] | None = None) -> str:
    """The README command ``start``, or else the one that begins with it; with
    ``filled``, each of its keys (a placeholder, say) replaced by its value."""
    matching = [c for c in commands() if c == start] or [
        c for c in commands() if c.startswith(start)
    ]
    assert len(matching) == 1, f"README commands starting with {start!r}: {matching}"
    found = matching[0]
    for placeholder, value in (filled or {}).items():
        assert placeholder in found, f"{placeholder!r} is not in the README's {found!r}"
        found = found.replace(placeholder, value)
    return found
