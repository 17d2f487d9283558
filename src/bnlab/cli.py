"""``python -m bnlab STAGE [args]``: the one entry point dvc.yaml calls.

Runs a stage's ``main`` with TensorFlow's native noise kept off the terminal,
and turns a user-facing failure (bad params, bad input file) into one line on
stderr and exit status 1. ``--debug`` as the first argument, or BNLAB_DEBUG=1,
shows the traceback and the framework's own messages instead.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import logging
import os
import re
import sys
from pathlib import Path

from bnlab.errors import BnlabError, Terminated
from bnlab.runtime import interrupt
from bnlab.runtime.kernels import use_portable_kernels
from bnlab.runtime.quiet import native_stderr_to_file

# The stages of dvc.yaml, extensions/dvc.yaml and networks/dvc.yaml, in pipeline order.
STAGES = (
    "generate",
    "split",
    "configure",
    "train",
    "evaluate",
    "plot",
    "report",
    "publish",
    "configure_extensions",
    "evaluate_extensions",
    "compare",
    "publish_extensions",
    "digits",
    "configure_networks",
    "train_network",
    "evaluate_networks",
    "report_networks",
    "publish_networks",
)
USAGE = "usage: python -m bnlab [--debug] STAGE [options]   (python -m bnlab --help: the stages)"


def stage_list() -> str:
    """Each stage with the first line of its module's docstring, read without importing it."""
    lines = ["usage: python -m bnlab [--debug] STAGE [options]", "", "stages:"]
    for stage in STAGES:
        source = Path(importlib.util.find_spec(f"bnlab.stages.{stage}").origin)
        summary = ast.get_docstring(ast.parse(source.read_text(encoding="utf-8"))) or ""
        first = summary.split("\n\n")[0].replace("\n", " ").replace("``", "")
        first = re.split(r"; |\. |\.$| \(", first.split(": ", 1)[-1])[0]
        lines.append(f"  {stage:<22}{first}")
    lines += ["", "python -m bnlab STAGE --help: a stage's options"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = os.environ.get("BNLAB_DEBUG", "") not in ("", "0")
    if argv[:1] == ["--debug"]:
        debug, argv = True, argv[1:]
    if argv[:1] in (["--help"], ["-h"]):
        print(stage_list())
        return 0
    if not argv or argv[0] not in STAGES:
        print(USAGE, file=sys.stderr)
        return 2
    stage, stage_argv = argv[0], argv[1:]
    # Before any stage imports TensorFlow: its outputs must not follow the CPU.
    use_portable_kernels()
    if debug:
        return _run(stage, stage_argv, debug=True)
    with native_stderr_to_file(f"bnlab-{stage}-") as log:
        status = _run(stage, stage_argv, debug=False)
    # Kept only when the stage crashed (an uncaught exception skips this line).
    log.unlink(missing_ok=True)
    return status


def _run(stage: str, argv: list[str], debug: bool) -> int:
    module = importlib.import_module(f"bnlab.stages.{stage}")
    # After the import, which sets these loggers up: TensorFlow's retracing
    # notices and MLflow's INFO lines about creating the tables of a new store.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # SIGTERM unwinds like Ctrl-C, so open MLflow runs end KILLED, not RUNNING.
    interrupt.install()
    try:
        module.main(argv)
    except BnlabError as exc:
        if debug:
            raise
        print(f"bnlab {stage}: error: {exc}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Terminated) as exc:
        print(
            f"bnlab {stage}: {'terminated' if isinstance(exc, Terminated) else 'interrupted'}",
            file=sys.stderr,
        )
        return 143 if isinstance(exc, Terminated) else 130
    return 0
