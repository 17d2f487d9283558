"""Keep TensorFlow's native log lines off the user's terminal.

TensorFlow's C++ core writes oneDNN and absl notices straight to file
descriptor 2 on import, whatever TF_CPP_MIN_LOG_LEVEL says. While a stage
runs, descriptor 2 points at a log file; Python's own ``sys.stderr`` (our
messages, warnings, tracebacks) keeps writing to the terminal.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def native_stderr_to_file(prefix: str) -> Iterator[Path]:
    """Redirect descriptor 2 to a temporary log file; yield the file's path."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=".log")
    sys.stderr.flush()
    terminal = os.dup(2)
    original_stderr = sys.stderr
    os.dup2(handle, 2)
    os.close(handle)
    try:
        # The stream owns its own duplicate of the terminal; `terminal` restores fd 2.
        with open(os.dup(terminal), "w", buffering=1, encoding="utf-8", errors="replace") as stream:
            sys.stderr = stream
            yield Path(name)
    finally:
        sys.stderr = original_stderr
        os.dup2(terminal, 2)
        os.close(terminal)
