"""Protects the same output bytes on every x86-64 CPU with AVX2.

Same bytes on every x86-64 CPU with AVX2: the shared study with
its extensions and networks, trained on this AVX-512 CPU with every core,
trained again as on an AVX2 CPU with one core and numpy's baseline SIMD
paths, writes identical outputs, the MLP's, the CNN's, the LSTM's and the
extensions'; the MLP's and the LSTM's, which never reach oneDNN, also on a
CPU below AVX2.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from tests import readme
from tests.e2e import copy_repo, dvc, run

PIPELINES = ("dvc.yaml", "networks/dvc.yaml", "extensions/dvc.yaml")
# numpy's dispatched SIMD levels above its x86-64 baseline (numpy.show_runtime()).
NUMPY_BASELINE = "X86_V3 X86_V4 AVX512_ICL AVX512_SPR"


def _has_avx512() -> bool:
    try:
        return "avx512f" in Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False


def _outputs(repo: Path) -> dict[str, str]:
    """Every output of every pipeline, by path: its md5 (a folder's lists its files')."""
    hashes = {}
    for pipeline in PIPELINES:
        lock = yaml.safe_load((repo / pipeline.replace(".yaml", ".lock")).read_text())
        for stage in lock["stages"].values():
            hashes.update({out["path"]: out["md5"] for out in stage.get("outs", [])})
    return hashes


@contextmanager
def _one_core() -> Iterator[None]:
    """As on a machine with one core: this process and those it starts may use one."""
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, cores)


def _up_to_date(repo: Path) -> dict[str, str]:
    for pipeline in PIPELINES:
        dvc(repo, "repro", pipeline)
    return _outputs(repo)


def _check_as_the_readme_says(repo: Path, **machine: str) -> str:
    """The README's check of a machine, a forced repro of the study and of the
    networks, then git status, with one extension's training forced too (the
    extensions train with the study's code)."""
    dvc(repo, *readme.command("dvc repro -f").split()[1:], **machine)
    dvc(repo, *readme.command("dvc repro -f networks/dvc.yaml").split()[1:], **machine)
    dvc(repo, "repro", "-f", "-s", f"{PIPELINES[2]}:train@bn_input_layer", **machine)
    return run(repo, *readme.command("git status --short").split())


@pytest.mark.slow
@pytest.mark.skipif(
    not _has_avx512(),
    reason="this CPU has no AVX-512, so it cannot stand for a CPU above the AVX2 cap "
    "(the contrast this test needs)",
)
def test_outputs_are_the_same_bytes_above_and_at_avx2_on_one_core_or_all(networks_study, tmp_path):
    repo = copy_repo(networks_study.repo, tmp_path / "repo")
    avx512 = _up_to_date(repo)  # the extensions, after the networks' study
    run(repo, "git", "add", "-A")
    run(repo, "git", "commit", "-q", "-m", "locks written as on an AVX-512 CPU")
    with _one_core():  # the CNN's and LSTM's copies train side by side on every core
        status = _check_as_the_readme_says(
            repo, ONEDNN_MAX_CPU_ISA="AVX2", NPY_DISABLE_CPU_FEATURES=NUMPY_BASELINE
        )
    avx2 = _outputs(repo)
    assert {
        "models/bn_after",
        "networks/models/cnn_bn_after",
        "extensions/models/bn_input_layer",
    } <= set(avx512)
    changed = sorted(path for path in avx512 if avx2[path] != avx512[path])
    assert changed == [], "outputs that followed the CPU's instruction set or core count"
    assert status == "", "git status after the README's check"

    # Below AVX2 only the CNN's input gradient changes (oneDNN's own sgemm):
    # the MLP and the LSTM use Eigen's compiled kernels alone.
    for stage in ("train@bn_after", "networks/dvc.yaml:train_network@lstm_bn_after"):
        dvc(repo, "repro", "-f", "-s", stage, ONEDNN_MAX_CPU_ISA="SSE41")
    sse41 = _outputs(repo)
    for path in (
        "models/bn_after",
        "results/history/bn_after.csv",
        "networks/models/lstm_bn_after",
    ):
        assert sse41[path] == avx512[path], f"{path} followed the CPU below AVX2"
