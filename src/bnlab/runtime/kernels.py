"""The same bytes on every x86-64 CPU: TensorFlow's kernels chosen before it loads.

TensorFlow sends float matrix products to oneDNN, which generates its kernels
for the instruction set of the CPU it runs on, so each CPU rounds differently
(docs/reproducibility.md has the measurements). Eigen's compiled kernels,
which these settings select instead, do not follow the CPU. One kernel still
calls oneDNN directly (the convolutions' input gradient): capping oneDNN at
AVX2 gives it the same code on every CPU that has AVX2.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

# The caps oneDNN reads in ONEDNN_MAX_CPU_ISA that are below AVX2: a CPU (or a
# test standing in for one) that sets them keeps them.
_BELOW_AVX2 = ("SSE41", "AVX")

SETTINGS = (
    "TF_ENABLE_ONEDNN_OPTS",
    "TENSORFLOW_USE_CUSTOM_CONTRACTION_KERNEL",
    "ONEDNN_MAX_CPU_ISA",
)


def use_portable_kernels(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set, before TensorFlow loads, the kernels whose results do not follow the CPU."""
    environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
    environ["TENSORFLOW_USE_CUSTOM_CONTRACTION_KERNEL"] = "false"
    if environ.get("ONEDNN_MAX_CPU_ISA", "").upper() not in _BELOW_AVX2:
        environ["ONEDNN_MAX_CPU_ISA"] = "AVX2"


def in_force(environ: MutableMapping[str, str] = os.environ) -> dict[str, str]:
    """The kernel settings this process runs with, for a run's tags."""
    return {name: environ.get(name, "") for name in SETTINGS}
