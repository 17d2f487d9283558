"""bnlab against the tutorial's code path: wall time and peak memory, side by side.

Everything is measured in this run, on this machine, medians over repeats:

- the reference: ``bench/tutorial.py`` (the tutorial's script: numpy arrays
  into ``Sequential.fit``), one process per variant run back to back, as the
  tutorial's three scripts are;
- bnlab: a real ``dvc repro`` in a fresh git + DVC repository (empty DVC
  cache, new MLflow store) holding the project's pipelines, params and the
  optional pipelines' committed locks, as a clone does, then a
  ``dvc repro`` with nothing changed, then ``dvc exp run -S bn.momentum=0.0``;
  and cold repros with 1, 10 (the default) and 100 seeds per variant;
- the extended study: a cold ``dvc repro`` then ``make networks``'s ``dvc repro
  networks/dvc.yaml`` (10 seeds), against the tutorial's path for all of it: its MLP scripts and
  ``bench/tutorial_networks.py`` (the CNN and LSTM fragments, one
  ``Sequential.fit`` per seed), one process per variant.

Peak memory is the largest resident set of any process in the command's
tree (the stage processes and their workers included), from ``wait4``.

The tutorial's path takes about 10 s a seed, so for 10 and 100 seeds per
variant (and 10 for each CNN and LSTM variant) it is estimated from its
measured one-seed runs (import + fit per seed) unless ``--full-reference``
runs it (about 5 and 50 minutes, and 8 for the networks).

    python -m bench.speed [--repeats 3] [--full-reference] [--epochs 100] [--seeds 1,10,100]
                          [--network-epochs 30] [--no-networks] [--before REV]

``--before REV`` also measures bnlab's scenarios with the code of git
revision REV (a worktree of this repository), in the same run, and shows both
side by side: what a change cost or saved.

(from the repository's root: it builds its repositories with the end-to-end
tests' helper, ``tests.e2e.make_repo``).

``--no-networks`` leaves the extended study out (about 3 of a repeat's
minutes at full size). ``--epochs``, ``--network-epochs`` and ``--seeds`` (one
seed, the default count, many) exist for a quick smoke run (the tests run
one); the figures that count use the defaults.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from bnlab.params import DIGITS_VARIANTS
from tests.e2e import ROOT, env, make_repo, run

VARIANTS = ("baseline", "bn_after", "bn_before")
NETWORK_VARIANTS = [(n, v) for n, variants in DIGITS_VARIANTS.items() for v in variants]
# What the tutorial's scripts load before their first model: a fixed cost per process.
IMPORTS = [
    sys.executable,
    "-c",
    "import keras.layers, keras.models, keras.optimizers, matplotlib.pyplot, sklearn.datasets",
]
NETWORK_IMPORTS = [sys.executable, "-c", "import keras.layers, keras.models, sklearn.datasets"]


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_mb: float


def measure(command: list[str], cwd: Path, **extra_env: str) -> Sample:
    """Wall time and the peak RSS over the command's whole process tree."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env(**extra_env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    # wait4's usage covers the process and every descendant it waited for.
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{process.stderr.read().decode()[-3000:]}")
    process.stderr.close()
    return Sample(seconds, usage.ru_maxrss / 1024)


def tutorial(variants: tuple[str, ...], seeds: int, epochs: int, folder: Path) -> Sample:
    """The tutorial's scripts, one process per variant, back to back."""
    script = str(ROOT / "bench" / "tutorial.py")
    samples = [
        measure(
            [sys.executable, script, v, str(seeds), str(epochs)],
            folder,
            MPLBACKEND="Agg",
        )
        for v in variants
    ]
    return Sample(sum(s.seconds for s in samples), max(s.peak_mb for s in samples))


def tutorial_networks(seeds: int, epochs: int, folder: Path) -> Sample:
    """The tutorial's path for every CNN and LSTM variant, one process each."""
    script = str(ROOT / "bench" / "tutorial_networks.py")
    samples = [
        measure([sys.executable, script, n, v, str(seeds), str(epochs)], folder)
        for n, v in NETWORK_VARIANTS
    ]
    return Sample(sum(s.seconds for s in samples), max(s.peak_mb for s in samples))


def dvc(*args: str) -> list[str]:
    return [sys.executable, "-m", "dvc", *args]


# A clone holds them, and DVC reads every lock file of the repository at each
# command, whether or not it runs their pipelines.
OPTIONAL_LOCKS = ("extensions/dvc.lock", "networks/dvc.lock")


def bnlab_repo(folder: Path, seeds: int, epochs: int, code: Path, **sections: dict) -> Path:
    params = yaml.safe_load((code / "params.yaml").read_text())  # that revision's own keys
    params["train"].update(seeds=seeds, epochs=epochs)
    for section, values in sections.items():
        params[section] = values if section == "networks" else {**params[section], **values}
    folder.mkdir()
    repo = make_repo(folder, params, source=code)
    locks = [name for name in OPTIONAL_LOCKS if (code / name).exists()]
    if locks:  # a revision from before the optional pipelines has none
        for name in locks:
            shutil.copy(code / name, repo / name)
        run(repo, "git", "add", *locks)
        run(repo, "git", "commit", "-q", "-m", "the optional pipelines' locks")
    return repo


def bnlab_round(
    folder: Path,
    counts: tuple[int, int, int],
    epochs: int,
    network_epochs: int,
    code: Path = ROOT,
    networks: bool = True,
) -> dict[str, Sample]:
    """One repeat of every bnlab scenario with the code in ``code``, each in
    fresh repositories (the extended study only where that code has networks)."""
    found = {}
    params = yaml.safe_load((code / "params.yaml").read_text())
    if networks and "networks" in params:
        section = params["networks"]
        if isinstance(section, dict):  # a pipeline of its own: the study, then make networks
            nets = {
                **section,
                **{n: {**section[n], "epochs": network_epochs} for n in DIGITS_VARIANTS},
            }
            repo = bnlab_repo(folder / "extended", counts[1], epochs, code, networks=nets)
            both = ["bash", "-c", "python -m dvc repro && python -m dvc repro networks/dvc.yaml"]
        else:  # before: networks listed in `networks`, trained by dvc repro
            every = {n: {"epochs": network_epochs} for n in DIGITS_VARIANTS}
            networks = ["mlp", *DIGITS_VARIANTS]
            repo = bnlab_repo(
                folder / "extended", counts[1], epochs, code, networks=networks, **every
            )
            both = dvc("repro")
        found["extended"] = measure(both, repo, PYTHONPATH=str(repo / "src"))
    for seeds in counts:
        repo = bnlab_repo(folder / f"seeds-{seeds}", seeds, epochs, code)
        own = {"PYTHONPATH": str(repo / "src")}  # the repository's bnlab, not the installed one
        found[f"cold-{seeds}"] = measure(dvc("repro"), repo, **own)
        if seeds == counts[1]:
            found["noop"] = measure(dvc("repro"), repo, **own)
            run(repo, "git", "add", "-A")
            run(repo, "git", "commit", "-q", "-m", "results")
            found["momentum"] = measure(dvc("exp", "run", "-S", "bn.momentum=0.0"), repo, **own)
    return found


def median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.seconds for s in samples),
        statistics.median(s.peak_mb for s in samples),
    )


def spread(samples: list[Sample]) -> str:
    times = [s.seconds for s in samples]
    return f"{min(times):.1f}-{max(times):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--full-reference", action="store_true")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seeds", default="1,10,100", help="one, the default, many")
    parser.add_argument("--network-epochs", type=int, default=30, help="each CNN and LSTM's")
    parser.add_argument("--no-networks", action="store_true", help="leave the extended study out")
    parser.add_argument("--before", metavar="REV", help="also measure this git revision's code")
    args = parser.parse_args()
    counts = tuple(int(n) for n in args.seeds.split(","))
    if len(counts) != 3:
        parser.error("--seeds takes three counts: one, the default, many")

    reference: dict[str, list[Sample]] = {}
    ours: dict[str, list[Sample]] = {}
    before: dict[str, list[Sample]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bnlab-bench-") as scratch,
        checkout(args.before, Path(scratch) / "before") as old_code,
    ):
        rounds(args, counts, Path(scratch), old_code, reference, ours, before)
    report(reference, ours, args.repeats, args.full_reference, counts, before, args.before)


@contextmanager
def checkout(revision: str | None, folder: Path) -> Iterator[Path | None]:
    """That revision's code in a git worktree at ``folder`` (none: nothing),
    removed afterwards, also when the benchmark fails."""
    if revision is None:
        yield None
        return
    run(ROOT, "git", "worktree", "add", "-q", "--detach", str(folder), revision)
    try:
        yield folder
    finally:
        run(ROOT, "git", "worktree", "remove", "--force", str(folder))


def rounds(
    args: argparse.Namespace,
    counts: tuple[int, int, int],
    scratch: Path,
    old_code: Path | None,
    reference: dict[str, list[Sample]],
    ours: dict[str, list[Sample]],
    before: dict[str, list[Sample]],
) -> None:
    """Every repeat: the tutorial's code path, then this code and, with
    --before, that revision's (checked out in ``old_code``), in turns."""
    for repeat in range(args.repeats):
        print(f"repeat {repeat + 1}/{args.repeats}", file=sys.stderr, flush=True)
        folder = scratch / f"r{repeat}"
        folder.mkdir()
        one = tutorial(VARIANTS, counts[0], args.epochs, folder)
        reference.setdefault(str(counts[0]), []).append(one)
        reference.setdefault("import", []).append(measure(IMPORTS, folder, MPLBACKEND="Agg"))
        momentum = tutorial(VARIANTS[1:], counts[0], args.epochs, folder)
        reference.setdefault("momentum", []).append(momentum)
        networks = not args.no_networks
        if networks:
            one_seed = tutorial_networks(counts[0], args.network_epochs, folder)
            reference.setdefault("networks-1", []).append(one_seed)
            reference.setdefault("networks-import", []).append(measure(NETWORK_IMPORTS, folder))
        if args.full_reference:
            for seeds in counts[1:]:
                sample = tutorial(VARIANTS, seeds, args.epochs, folder)
                reference.setdefault(str(seeds), []).append(sample)
            if networks:
                sample = tutorial_networks(counts[1], args.network_epochs, folder)
                reference.setdefault("networks", []).append(sample)
        # With --before, the two codes take turns at going first: whichever runs
        # right after the tutorial's scripts would otherwise always pay for that.
        codes = [(ours, folder / "this", ROOT), (before, folder / "before", old_code)]
        if not old_code:
            codes = codes[:1]
        elif repeat % 2:
            codes.reverse()
        for found, where, code in codes:
            where.mkdir()
            samples = bnlab_round(where, counts, args.epochs, args.network_epochs, code, networks)
            for name, sample in samples.items():
                found.setdefault(name, []).append(sample)


def report(
    reference: dict[str, list[Sample]],
    ours: dict[str, list[Sample]],
    repeats: int,
    full: bool,
    counts: tuple[int, int, int],
    before: dict[str, list[Sample]],
    before_rev: str | None,
) -> None:
    few, default, many = counts
    one = median(reference[str(few)])
    ref = {key: median(samples) for key, samples in reference.items()}
    if not full:
        # Per process: the imports once, then the smallest run's remaining work per seed.
        fixed = ref["import"].seconds * len(VARIANTS)
        per_seed = (one.seconds - fixed) / few
        for seeds in counts[1:]:
            ref[str(seeds)] = Sample(fixed + per_seed * seeds, one.peak_mb)
        if "networks-1" in ref:
            nets = ref["networks-1"]
            fixed = ref["networks-import"].seconds * len(NETWORK_VARIANTS)
            per_seed = (nets.seconds - fixed) / few
            ref["networks"] = Sample(fixed + per_seed * default, nets.peak_mb)
    if "networks" in ref:
        # The extended study's reference: the MLP's scripts and the networks', 10 seeds each.
        mlp, nets = ref[str(default)], ref["networks"]
        ref["extended"] = Sample(mlp.seconds + nets.seconds, max(mlp.peak_mb, nets.peak_mb))
    mine = {key: median(samples) for key, samples in ours.items()}
    old = {key: median(samples) for key, samples in before.items()}

    print(f"\nbnlab speed benchmark: {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"medians of {repeats} runs (wall-time range in brackets); peak = largest process\n")
    old_head = f"{'bnlab ' + before_rev[:12]:>18}" if old else ""
    header = f"{'scenario':<44}{'tutorial code path':>26}{old_head}{'bnlab':>24}{'ratio':>8}"
    print(header)
    print("-" * len(header))

    def row(label: str, theirs: Sample | None, key: str, note: str = "") -> None:
        m = mine[key]
        left = f"{theirs.seconds:7.1f} s {theirs.peak_mb / 1024:5.2f} GB{note:>3}" if theirs else ""
        ratio = f"{m.seconds / theirs.seconds:8.2f}" if theirs else ""
        right = f"{m.seconds:6.1f} s [{spread(ours[key])}] {m.peak_mb / 1024:4.2f} GB"
        was = ""
        if old:  # "-": that revision has no such scenario
            was = (
                f"{old[key].seconds:8.1f} s {old[key].peak_mb / 1024:4.2f} GB"
                if key in old
                else f"{'-':>18}"
            )
        print(f"{label:<44}{left:>26}{was}{right:>24}{ratio}")

    estimated = "" if full else " *"
    row(f"cold, 3 variants x {few} seed(s)", one, f"cold-{few}")
    row(
        f"cold, 3 variants x {default} seeds (default)",
        ref[str(default)],
        f"cold-{default}",
        estimated,
    )
    row(f"cold, 3 variants x {many} seeds", ref[str(many)], f"cold-{many}", estimated)
    row("nothing changed (tutorial: rerun all 3)", one, "noop")
    row("bn.momentum=0.0 (tutorial: rerun 2 BN)", ref["momentum"], "momentum")
    if "extended" in mine:
        row(f"cold, extended: + CNN, LSTM, {default} seeds", ref["extended"], "extended", estimated)
    if not full:
        print(f"* estimated from the {few}-seed runs; --full-reference measures it")

    extended = ref.get("extended")
    measured = targets(one, extended, mine, ours, counts)
    if old:
        earlier = targets(one, extended, old, before, counts)
        print(f"\n{'target':<44}{before_rev[:12]:>12}{'measured':>10}  {'goal':<10}")
        for (label, value, goal, limit), (_, was, _, _) in zip(measured, earlier, strict=True):
            met = "met" if value <= limit else "NOT met"
            print(f"{label:<44}{was:>12.2f}{value:>10.2f}  {goal:<10}{met}")
        return
    print(f"\n{'target':<44}{'measured':>10}  {'goal':<18}")
    for label, value, goal, limit in measured:
        print(f"{label:<44}{value:>10.2f}  {goal:<18}{'met' if value <= limit else 'NOT met'}")


def targets(
    one: Sample,
    extended: Sample | None,
    mine: dict[str, Sample],
    samples: dict[str, list[Sample]],
    counts,
) -> list[tuple[str, float, str, float]]:
    """(label, measured, goal, limit) of each target, for one code's medians
    (nan where that code has no such scenario; none for the extended study
    when it was left out)."""
    _, default, many = counts
    cold = mine[f"cold-{default}"]
    ours_extended = mine["extended"].seconds if "extended" in mine else float("nan")
    peak = max(s.peak_mb for runs in samples.values() for s in runs) / 1024
    found = [
        ("default cold repro / tutorial's 3 scripts", cold.seconds / one.seconds, "<= 0.5", 0.5),
        (
            f"{many} seeds / {default} seeds, cold repro",
            mine[f"cold-{many}"].seconds / cold.seconds,
            "<= 2",
            2,
        ),
        ("no-op dvc repro, s", mine["noop"].seconds, "<= 1.2", 1.2),
        (
            "momentum experiment / cold repro",
            mine["momentum"].seconds / cold.seconds,
            "<= 0.75",
            0.75,
        ),
        ("peak memory of any process, GB", peak, "<= 1", 1.0),
    ]
    if extended:
        found.append(
            (
                "extended study / tutorial's code path",
                ours_extended / extended.seconds,
                "<= 0.25",
                0.25,
            )
        )
    return found


if __name__ == "__main__":
    main()
