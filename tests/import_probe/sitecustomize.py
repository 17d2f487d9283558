"""Imported by every Python process started with this folder on PYTHONPATH.

The end-to-end tests run ``dvc repro`` so, with BNLAB_IMPORT_LOG naming a
file: at exit, each process that imported any of bnlab appends one JSON line
with its pid, its parent's pid, its command line and the bnlab source files
it imported. tests/test_pipeline_e2e.py holds that against each stage's deps.
"""

import atexit
import json
import os
import sys


def _record() -> None:
    files = sorted(
        module.__file__
        for module in list(sys.modules.values())
        if _is_bnlab(getattr(module, "__spec__", None)) and getattr(module, "__file__", None)
    )
    if not files:
        return
    line = {"pid": os.getpid(), "ppid": os.getppid(), "argv": sys.orig_argv, "files": files}
    with open(os.environ["BNLAB_IMPORT_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(line) + "\n")


def _is_bnlab(spec) -> bool:
    # By the spec's name: ``python -m bnlab.x`` runs x.py as the module __main__.
    name = getattr(spec, "name", "") or ""
    return name == "bnlab" or name.startswith("bnlab.")


if os.environ.get("BNLAB_IMPORT_LOG"):
    atexit.register(_record)
