"""What the publish stages add to the runs train opened, for the study, its
extensions and the networks alike: a variant's statistics and figures, the
logged model of its median seed, its version in the Model Registry, and a run
for a report's files.

A variant's run that already has its statistics, or its logged model, keeps
them: it belongs to a training DVC kept cached, whose numbers did not change.

Each step can be interrupted and run again: what marks it done comes last
(the headline metrics after the artifacts; the model's tag on the run after
a READY logged model, which a rerun reuses; a report run's files' md5), and
a logged model left PENDING by an interrupted ``Model.log`` is deleted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from mlflow.entities import LoggedModelStatus

from bnlab.analysis import representative_seed
from bnlab.files import read_json, write_json
from bnlab.files.scores import read_scores
from bnlab.runtime import interrupt
from bnlab.tracking import registry
from bnlab.tracking.lineage import context_tags, file_md5
from bnlab.tracking.store import DESCRIPTION_TAG, MODEL_TAG, SCORES_TAG, Tracker, flatten

REPORT_TAG = "bnlab.report_md5"  # on a report run: the md5 of its files' md5s
# The statistics a variant's run shows as metrics (the rest are in its
# evaluation/<variant>.json): what the runs page compares first, and the
# median epochs to its threshold (epochs_to_80.median for the MLP's).
HEADLINE = (
    "test_accuracy.mean",
    "test_accuracy.ci95_low",
    "test_accuracy.ci95_high",
    "train_accuracy.mean",
)


def publish_variant(
    tracker: Tracker,
    run_id: str,
    stats: Path,
    figures: list[Path],
    metrics: dict[str, float] | None = None,
) -> str:
    """Log a variant's statistics, figures and further metrics into its run,
    unless it has them; say what happened."""
    if HEADLINE[0] in tracker.client.get_run(run_id).data.metrics:
        return f"already in its run {run_id}"
    numbers = flatten(read_json(stats))  # epochs_to_NN.median is absent if no seed got there
    headline = {
        key: value
        for key, value in numbers.items()
        if key in HEADLINE or (key.startswith("epochs_to_") and key.endswith(".median"))
    }
    tracker.log_artifacts(run_id, [stats], "evaluation")
    tracker.log_artifacts(run_id, figures, "figures")
    tracker.log_metrics(run_id, {**headline, **(metrics or {})})  # last: it marks the run done
    return f"logged into its run {run_id}"


def log_model(
    tracker: Tracker,
    variant: str,
    run_id: str,
    scores: Path,
    models: Path,
    description: str,
    example: np.ndarray,
    outputs: int,
) -> str:
    """The logged model of the variant's median seed (logged now, unless its run
    has it from an earlier publish), with ``example`` as its input example and
    ``outputs`` values out; its id."""
    run = tracker.client.get_run(run_id)
    if MODEL_TAG in run.data.tags:
        return run.data.tags[MODEL_TAG]
    # Here: publish_extensions logs no model, and should not depend on this module.
    from bnlab.tracking.models import log_keras_model, model_path

    seed = representative_seed(read_scores(scores))
    child = tracker.seed_run(run_id, seed)
    model_id = _ready_model(tracker, child.info.run_id) or log_keras_model(
        tracker.experiment_id,
        child.info.run_id,
        model_path(models, seed),
        name=child.info.run_name,
        example=example,
        outputs=outputs,
        tags={
            **{k: v for k, v in child.data.tags.items() if k.startswith("mlflow.source.")},
            "variant": variant,
            "seed": str(seed),
            DESCRIPTION_TAG: f"{variant}, seed {seed}: {description}",
        },
    )
    tracker.client.set_tag(run_id, MODEL_TAG, model_id)
    tracker.client.set_tag(run_id, DESCRIPTION_TAG, description)
    return model_id


def _ready_model(tracker: Tracker, run_id: str) -> str | None:
    """The READY logged model an interrupted publish left in run ``run_id``, if
    any; the PENDING ones it left (cut off mid-``Model.log``) are deleted."""
    found = tracker.client.search_logged_models(
        [tracker.experiment_id], filter_string=f"source_run_id = '{run_id}'"
    )
    ready = None
    for model in found:
        if model.status == LoggedModelStatus.READY:
            ready = ready or model.model_id
        else:
            tracker.client.delete_logged_model(model.model_id)
    return ready


def register_variant(
    tracker: Tracker, name: str, variant: str, run_id: str, model_id: str, scores: Path, mean: float
) -> tuple[str, str]:
    """Its model's version of the registered model ``name``, and what happened."""
    run = tracker.client.get_run(run_id)
    params = {k: v for k, v in run.data.params.items() if not k.startswith(("data.", "split."))}
    tags = {SCORES_TAG: file_md5(scores), registry.MEAN_TAG: str(mean), **params}
    version, new = registry.register(tracker.client, name, variant, model_id, tags)
    return version, f"{'registered' if new else 'already'} {name} version {version}"


def set_aliases(tracker: Tracker, name: str, versions: dict[str, str], means: dict[str, float]):
    """An alias per variant and ``best``, when the workspace's study owns them; say so."""
    if not versions:
        return f"publish {name}: no version to alias"
    if not registry.owns_aliases():
        return f"publish {name}: a DVC experiment; the aliases stay with the workspace's study"
    best = max(means, key=means.get)
    registry.set_aliases(tracker.client, name, versions, best)
    return f"publish {name}: aliases {', '.join(versions)} and {registry.BEST} ({best})"


@dataclass(frozen=True)
class Trained:
    """A variant's training, as publish finds it: its stage and what it left."""

    variant: str  # its alias in the registered model: baseline, bn_after, ...
    label: str  # its runs' and files' name: bn_after, cnn_bn_after, ...
    stage: str
    scores: Path
    stats: Path
    models: Path
    figures: list[Path]
    description: str


def publish_models(
    tracker: Tracker,
    name: str,
    description: str,
    trained: list[Trained],
    example: np.ndarray,
    outputs: int,
) -> dict[str, str]:
    """Each variant's statistics, figures and logged model (``example``'s rows in,
    ``outputs`` values out) into its run, its model a version of the registered
    model ``name``, then the aliases; say what happened. Returns the md5 of each
    published variant's scores, by label."""
    registry.ensure_registered_model(tracker.client, name, description)
    versions, means, published = {}, {}, {}
    for t in trained:
        run_id = tracker.find_training_run(t.stage, t.scores)
        if run_id is None:
            print(f"publish {t.label}: no run of its training in {tracker.where}; not logging")
            continue
        published[t.label] = file_md5(t.scores)
        # A signal waits for the step under way: cut inside an SQLite write, it
        # would leave the store locked for this process's way out.
        with interrupt.deferred():
            said = publish_variant(tracker, run_id, t.stats, t.figures)
        with interrupt.deferred():
            model_id = log_model(
                tracker, t.variant, run_id, t.scores, t.models, t.description, example, outputs
            )
        means[t.variant] = read_json(t.stats)["test_accuracy"]["mean"]
        with interrupt.deferred():
            versions[t.variant], registered = register_variant(
                tracker, name, t.variant, run_id, model_id, t.scores, means[t.variant]
            )
        print(f"publish {t.label}: {said}; {registered}", flush=True)
    with interrupt.deferred():
        print(set_aliases(tracker, name, versions, means), flush=True)
    return published


def publish_report(
    tracker: Tracker, name: str, stage: str, files: list[Path], description: str = ""
) -> str:
    """A run named ``name`` with the report's files as artifacts, unless a
    FINISHED one has these very files; returns its id."""
    digest = hashlib.md5("".join(file_md5(f) for f in files).encode()).hexdigest()
    found = tracker.client.search_runs(
        [tracker.experiment_id],
        filter_string=(
            f"tags.`{REPORT_TAG}` = '{digest}' and tags.`dvc.stage` = '{stage}' "
            "and attributes.status = 'FINISHED'"
        ),
        max_results=1,
    )
    if found:
        return found[0].info.run_id
    tags = context_tags(stage, "all")
    if description:
        tags[DESCRIPTION_TAG] = description
    with interrupt.deferred():
        run_id = tracker.start_run(name, tags)
        with tracker.running(run_id):
            tracker.log_artifacts(run_id, files, "report")
            tracker.client.set_tag(run_id, REPORT_TAG, digest)
    return run_id


def write_record(path: Path, experiment: str, runs: dict[str, str], **extra: object) -> None:
    """What a publish stage put into the store: the experiment, and each run it
    completed by the md5 of the scores its training wrote. Written last, as the
    stage's one output: a fresh clone has none (until it pulls the record with
    the outputs, from a team's remote whose store has them), nor has a publish
    that was interrupted, so ``dvc repro`` runs publish there. No run id or
    store address: the same params give the same bytes on any machine."""
    write_json(path, {"experiment": experiment, **extra, "runs": dict(sorted(runs.items()))})
