"""What the run panel and the command line say about a run: timings, devices, risky ops and
failures, as plain text (testable without a window)."""

from __future__ import annotations

from smlens.core.analysis.scan import MetaGraphScan
from smlens.core.errors import SmlensError
from smlens.core.model.text import human_bytes
from smlens.core.run.availability import NO_TENSORFLOW_STAGE
from smlens.core.run.client import DeviceInfo, RunCancelled, RunError, WorkerCrashed


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 1 else f"{seconds:.2f} s"


def timings_text(result) -> str:
    """ "Load 0.41 s · first call 1.23 ms · warm (9) min/median/p90 0.30/0.38/0.58 ms"."""
    parts = []
    if result.start_seconds:
        parts.append(f"Worker start {result.start_seconds:.2f} s")
    parts.append("Load cached" if result.cached else f"Load {_ms(result.load_seconds)}")
    parts.append(f"first call {_ms(result.first_call_seconds)}")
    if result.warm_seconds:
        ms = [f"{s * 1000:.2f}" for s in (result.warm_min, result.warm_median, result.warm_p90)]
        parts.append(f"warm ({len(result.warm_seconds)}) min/median/p90 {'/'.join(ms)} ms")
    return "  ·  ".join(parts)


def device_text(device: DeviceInfo) -> str:
    """ "GPU:0 · NVIDIA A100 · 40.0 GiB" or "CPU:0 · 15.5 GiB host memory"."""
    label = device.spec.upper()
    name = device.details.get("device_name")
    if name:
        label += f" · {name}"
    total = device.memory.get("host_total")
    if total:
        label += f" · {human_bytes(total)} host memory"
    return label


def risky_text(mg: MetaGraphScan, tag_set: str) -> str:
    uses = [*mg.denylisted, *mg.other]
    ops = ", ".join(sorted({u.op for u in uses}))
    places = "\n".join(f"  {u.op} at {u.where}" for u in uses[:6])
    more = f"\n  … and {len(uses) - 6} more" if len(uses) > 6 else ""
    return (
        f"The tag-set {tag_set!r} uses file or system ops: {ops}.\n\n{places}{more}\n\n"
        "Running it can read or write files on this machine. Run it anyway?"
    )


def short_tf_error(error: RunError) -> str:
    """TensorFlow's message without the Python stack it appends: the lines up to
    "Original stack trace" with the "Detected at node" traceback header dropped."""
    lines = []
    for line in error.message.split("\n"):
        if line.startswith("Original stack trace"):
            break
        if line.startswith("Detected at node") or not line.strip():
            continue
        lines.append(line.strip())
    return "\n".join(lines)


def describe_failure(error: BaseException) -> str:
    if isinstance(error, WorkerCrashed):
        return f"{error.message}\n\nThe next run starts a fresh worker."
    if isinstance(error, RunCancelled):
        return f"Stopped: {error.message}. The next run starts a fresh worker."
    if isinstance(error, RunError):
        if error.stage in ("missing-op", NO_TENSORFLOW_STAGE):
            return error.message
        return f"TensorFlow refused the run ({error.stage or 'run'}): {short_tf_error(error)}"
    if isinstance(error, SmlensError):
        return str(error)
    return f"{type(error).__name__}: {error}"
