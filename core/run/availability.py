"""Whether TensorFlow can run here, and what to say when it cannot: the one home of the
install command that the command line, the Run panel and Help ▸ About print.

Known two ways. ``find_tensorflow()`` looks for the package in this process without
importing it (the import costs seconds); the run worker's start says for certain, since it
imports it (``RunEngine.tensorflow`` keeps what it said). The worker's word wins once there
is one: a package found on the path can still fail to import.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

INSTALL_COMMAND = "pip install 'smlens[tf]'"
NO_TENSORFLOW = "no TensorFlow"  # the device list, when there is no TensorFlow to ask
NO_GPU_VISIBLE = "no GPU visible to TensorFlow"  # the device list, under the CPU
NO_TENSORFLOW_STAGE = "no-tensorflow"  # the worker's start error when its import fails


@dataclass(frozen=True)
class TensorFlowStatus:
    """What is known of TensorFlow: found or not, and where, which version, or why not."""

    found: bool
    detail: str  # "at /site-packages/tensorflow", "2.21.0" or why it cannot be imported
    by_worker: bool = False  # the worker tried to import it (else: looked for on the path)

    @property
    def about_text(self) -> str:
        """Help ▸ About's TensorFlow line."""
        if self.found:
            return (
                f"{self.detail}, imported by the run worker"
                if self.by_worker
                else f"found {self.detail}"
            )
        return f"not found ({self.detail}): inspecting works; running needs {INSTALL_COMMAND}"

    @property
    def not_runnable_reason(self) -> str | None:
        """The Run panel's one line (and the Run button's tooltip); None when it can run."""
        return self.needed_for("Running")

    def needed_for(self, doing: str) -> str | None:
        """ "``doing`` needs TensorFlow: why not, and the install command" (the Run panel's,
        the freeze and wrap dialogs' notice); None when TensorFlow is there."""
        if self.found:
            return None
        where = "the run worker cannot import it" if self.by_worker else "it is not installed here"
        return f"{doing} needs TensorFlow: {where} ({self.detail}). Install it: {INSTALL_COMMAND}"


def find_tensorflow() -> TensorFlowStatus:
    """Where TensorFlow would be imported from in this process, found without importing it."""
    try:
        spec = importlib.util.find_spec("tensorflow")
    except (ImportError, ValueError) as e:
        return TensorFlowStatus(False, str(e))
    if spec is None:
        return TensorFlowStatus(False, "No module named 'tensorflow'")
    where = next(iter(spec.submodule_search_locations or []), spec.origin or "")
    return TensorFlowStatus(True, f"at {where}")


def import_failure_text(error: BaseException) -> str:
    """The worker's start error when ``import tensorflow`` failed, as the CLI prints it."""
    return f"TensorFlow is not installed here ({error}); {INSTALL_COMMAND}"
