"""Protects the README's everyday commands on a fresh clone.

README's everyday commands on a fresh clone of this repository.

`make repro` runs the default study; its outputs are byte for byte what the
committed dvc.lock records, so git status stays clean, and the other make
targets keep it so.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from mlflow import MlflowClient

from tests import readme
from tests.e2e import ROOT, VARIANTS, env, output_hashes, run, stages_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fresh") / "bnlab"
    run(folder.parent, "git", "clone", "-q", str(ROOT), str(folder))
    # This project's .venv, already set up: `make` finds nothing to install.
    (folder / ".venv").symlink_to(ROOT / ".venv")
    return folder


@pytest.fixture(scope="module")
def made(clone) -> str:
    return run(clone, "bash", "-c", readme.command("make repro"))


def git_status(clone: Path) -> str:
    return run(clone, "git", "status", "--porcelain", "--untracked-files=all")


def registered_versions(clone: Path) -> list:
    client = MlflowClient(tracking_uri=f"sqlite:///{clone / 'mlflow.db'}")
    return client.search_model_versions("name = 'bn-circles'")


def test_make_repro_runs_the_study_and_leaves_git_status_clean(clone, made):
    # publish too: the committed lock matches every dep of it, but a clone has
    # not published into its own store, and DVC sees its record missing.
    assert {f"train@{v}" for v in VARIANTS} | {"publish"} <= stages_run(made)
    assert git_status(clone) == "", "dvc.lock records what this code and these params make"
    assert len(registered_versions(clone)) == len(VARIANTS)


def test_then_dvc_repro_in_the_venv_runs_nothing(clone, made):
    activate, repro = readme.command("source .venv/bin/activate"), readme.command("dvc repro")
    output = run(clone, "bash", "-c", f"{activate} && {repro}")
    assert stages_run(output) == set()
    assert "Data and pipelines are up to date" in output


def test_make_help_lint_and_format(clone, made):
    listed = run(clone, "bash", "-c", readme.command("make help"))
    for target in ("repro", "test", "ui", "lint", "format", "clean"):
        assert f"make {target} " in listed
    run(clone, "bash", "-c", readme.command("make lint"))
    run(clone, "bash", "-c", readme.command("make format"))
    assert git_status(clone) == "", "the committed code is formatted"


def test_make_clean_then_dvc_checkout_restores_every_output(clone, made):
    run(clone, "bash", "-c", readme.command("make clean"))
    assert not (clone / "models").exists() and not (clone / "metrics").exists()
    status = subprocess.run(
        ["bash", "-c", "dvc status --json dvc.yaml"],
        cwd=clone,
        env=env(),
        capture_output=True,
        text=True,
    )
    changed = {
        path: state
        for entries in json.loads(status.stdout).values()
        for entry in entries
        if isinstance(entry, dict)
        for path, state in entry.get("changed outs", {}).items()
    }
    # Every output of the study is gone from the workspace and still in DVC's cache.
    assert set(changed) == set(output_hashes(clone)), status.stdout
    assert set(changed.values()) == {"deleted"}, status.stdout
    activate = readme.command("source .venv/bin/activate")
    run(clone, "bash", "-c", f"{activate} && {readme.command('dvc checkout')}")
    assert "Data and pipelines are up to date" in run(clone, "bash", "-c", "dvc status dvc.yaml")
    assert git_status(clone) == ""


def table_rows(lines: list[str]) -> list[list[str]]:
    """The cells of each Markdown table row (header and rule rows included)."""
    return [
        [c.strip() for c in line.strip().strip("|").split("|")]
        for line in lines
        if line.startswith("|")
    ]


def test_the_readme_findings_are_this_runs_numbers(clone, made):
    """Every number the README's findings show is in the run's own report, so
    none can drift: the per-variant columns it keeps, and the claims' rows."""
    summary = (clone / "reports" / "summary.md").read_text().splitlines()
    text = readme.README.read_text()
    findings = text.split("## Findings", 1)[1].split("\n## ", 1)[0]
    per_variant, claims = (
        table_rows(block.splitlines()) for block in re.findall(r"(?m)(?:^\|.*\n)+", findings)
    )
    reported = {row[0]: row for row in table_rows(summary) if len(row) == 7}
    assert [r[0] for r in per_variant[2:]] == list(VARIANTS)
    for variant, test_accuracy, epochs in per_variant[2:]:
        assert (test_accuracy, epochs) == (reported[variant][1], reported[variant][3]), variant
    summary_rows = table_rows(summary)
    assert claims and all(row in summary_rows for row in claims)
    assert len(claims) == len([r for r in summary_rows if len(r) == 3]), "every claim"
    for figure in re.findall(r"!\[[^]]*\]\(([^)]+)\)", "\n".join(findings)):
        assert (clone / figure).stat().st_size, figure
