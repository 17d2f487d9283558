"""Protects the README and docs/: every command run by a test, every path real, the
README short with its findings first."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from tests import readme

TESTS = Path(__file__).parent
ROOT = readme.ROOT
CI_RUN = TESTS.parent / ".ci" / "run"
# readme.command, or a team test's stack.command (the same, placeholders filled).
FETCH = re.compile(r"""(?:readme|stack)\.command\(\s*(?:"([^"]+)"|'([^']+)')""")


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


MAX_README = 12_000  # characters: the rest is in docs/
# Backticked names with a folder in them, and Markdown link targets.
PATHISH = re.compile(r"`([\w.-]+(?:/[\w.-]*)+)`")
LINK = re.compile(r"\]\(([^)#\s]+)\)")
# What a run makes outside DVC's outputs: the MLflow store and the venv.
RUNTIME = ("mlflow.db", "mlartifacts", ".venv")


def pipeline_outputs() -> list[str]:
    outs = []
    for lock in ("dvc.lock", "extensions/dvc.lock", "networks/dvc.lock"):
        stages = yaml.safe_load((ROOT / lock).read_text())["stages"].values()
        outs += [out["path"] for stage in stages for out in stage.get("outs", [])]
    return outs


def named_paths(page: Path) -> set[str]:
    """The repository paths a page names, relative to the root."""
    text = page.read_text(encoding="utf-8")
    found = {p.rstrip("/") for p in PATHISH.findall(text)}
    for target in LINK.findall(text):
        if "://" not in target:
            found.add(str((page.parent / target).resolve().relative_to(ROOT)))
    return {p for p in found if p and not p.startswith(("/", "http", "~"))}


def test_every_path_the_pages_name_exists_or_is_an_output():
    outputs = pipeline_outputs()

    def known(path: str) -> bool:
        return (
            (ROOT / path).exists()
            or path.split("/")[0] in RUNTIME
            or any(
                path == o or path.startswith(f"{o}/") or o.startswith(f"{path}/") for o in outputs
            )
        )

    missing = {
        f"{page.relative_to(ROOT)}: {path}"
        for page in readme.PAGES
        for path in named_paths(page)
        if not known(path)
    }
    assert missing == set()


def test_the_readme_is_short_and_answers_first():
    text = readme.README.read_text(encoding="utf-8")
    assert len(text) <= MAX_README
    first = text.splitlines()[:60]
    assert "## Findings" in first
    assert any(line.startswith("| bn_after | ") for line in first), "the per-variant table"
    assert any("| supported |" in line or "| not supported |" in line for line in first)
    assert any(line.startswith("![") for line in first), "a figure"
    assert any("docs/experiments.md" in line for line in first)
    assert any("docs/networks.md" in line for line in first)
