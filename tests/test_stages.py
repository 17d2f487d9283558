"""Protects the stages without TensorFlow or MLflow, in-process: outputs, same bytes."""

from __future__ import annotations

import json

import numpy as np
import yaml

from bnlab.files.boundary import Boundary, grid, write_boundary
from bnlab.files.history import METRICS, write_history
from bnlab.files.scores import write_scores
from bnlab.report import BOUNDARIES, DATASET, EPOCHS, NUMBERS, OVERLAY, SUMMARY, learning_curves
from bnlab.stages import configure, evaluate, generate, plot, report, split

VARIANTS = ("baseline", "bn_after", "bn_before")


def _trained(folder, seeds=(0, 1, 2), epochs=4) -> None:
    """What train would write for each variant, made up: curves, scores, boundaries."""
    rng = np.random.default_rng(0)
    for variant in VARIANTS:
        histories = {
            s: {m: np.linspace(0.6, 0.9, epochs).round(3).tolist() for m in METRICS} for s in seeds
        }
        write_history(folder / "history" / f"{variant}.csv", histories)
        scores = {
            s: {
                "train_accuracy": 0.85,
                "train_loss": 0.35,
                "test_accuracy": float(0.8 + rng.uniform(0, 0.05)),
                "test_loss": 0.4,
            }
            for s in seeds
        }
        write_scores(folder / "scores" / f"{variant}.csv", scores)
        xs, ys = grid(np.array([[-1.0, -1.0], [1.0, 1.0]]))
        write_boundary(folder / "boundary" / f"{variant}.csv", Boundary(1, xs, ys, xs * 0 + 0.5))


def _pipeline(folder, params_dict) -> None:
    folder.mkdir(exist_ok=True)
    params = folder / "params.yaml"
    params.write_text(yaml.safe_dump(params_dict))
    p = ["--params", str(params)]
    generate.main([*p, "--out", str(folder / "raw.csv")])
    split.main(
        [
            *p,
            "--raw",
            str(folder / "raw.csv"),
            "--train",
            str(folder / "train.csv"),
            "--test",
            str(folder / "test.csv"),
        ]
    )
    configure.main([*p, "--out-dir", str(folder / "configs")])
    _trained(folder)
    evaluate.main(
        [
            *p,
            "--scores-dir",
            str(folder / "scores"),
            "--history-dir",
            str(folder / "history"),
            "--stats-dir",
            str(folder / "stats"),
            "--headline",
            str(folder / "headline.json"),
        ]
    )
    plot.main(
        [
            *p,
            "--raw",
            str(folder / "raw.csv"),
            "--history-dir",
            str(folder / "history"),
            "--boundary-dir",
            str(folder / "boundary"),
            "--figures-dir",
            str(folder / "figures"),
            "--report-dir",
            str(folder / "reports"),
            "--curves-dir",
            str(folder / "curves"),
        ]
    )
    report.main(
        [
            *p,
            "--scores-dir",
            str(folder / "scores"),
            "--history-dir",
            str(folder / "history"),
            "--out-dir",
            str(folder / "reports"),
        ]
    )


def _files(folder) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_the_stages_write_what_dvc_yaml_says(tmp_path, tiny_params_dict):
    _pipeline(tmp_path, tiny_params_dict)
    n_train = tiny_params_dict["split"]["n_train"]
    assert len((tmp_path / "train.csv").read_text().splitlines()) == 1 + n_train
    assert sorted(p.name for p in (tmp_path / "configs").iterdir()) == [
        f"{v}.json" for v in VARIANTS
    ]
    headline = json.loads((tmp_path / "headline.json").read_text())
    assert list(headline) == list(VARIANTS)
    stats = json.loads((tmp_path / "stats" / "bn_after.json").read_text())
    assert headline["bn_after"].startswith(f"{stats['test_accuracy']['mean']:.3f} ±")
    assert stats["epochs_to_80"]["median"] == 3.0  # 0.6, 0.7, 0.8, 0.9: the third epoch
    figures = {DATASET, OVERLAY, *(learning_curves(v) for v in VARIANTS)}
    assert {p.name for p in (tmp_path / "figures").iterdir()} == figures
    assert {p.name for p in (tmp_path / "reports" / "figures").iterdir()} == {BOUNDARIES, EPOCHS}
    summary = (tmp_path / "reports" / SUMMARY).read_text()
    assert f"figures/{BOUNDARIES}" in summary and "| bn_before |" in summary
    numbers = json.loads((tmp_path / "reports" / NUMBERS).read_text())
    assert set(numbers) == {*VARIANTS, "claims"}


def test_same_inputs_give_the_same_bytes(tmp_path, tiny_params_dict):
    _pipeline(tmp_path / "a", tiny_params_dict)
    _pipeline(tmp_path / "b", tiny_params_dict)
    first, second = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []
