"""Running signatures in the worker: outputs equal TensorFlow's own in this process, devices
and timings are reported, bad inputs never reach the worker, and a killed or crashed worker
is a clear error followed by a fresh worker. One warm engine serves the module."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading

import ml_dtypes
import numpy as np
import pytest

from smlens.cli.main import main
from smlens.cli.run import run_main
from smlens.core import open_model
from smlens.core.analysis.scan import RiskyOpsError
from smlens.core.errors import SmlensError
from smlens.core.run.client import (
    RunCancelled,
    RunEngine,
    RunError,
    RunResult,
    RunTimedOut,
    WorkerCrashed,
)
from smlens.core.run.inputs import make_example
from smlens.core.run.protocol import read_array, write_array
from smlens.core.run.request import LoadRequest, RunRequest, parse_device

CPU = "/job:localhost/replica:0/task:0/device:CPU:0"
X3 = np.array([[1.0, 2.0, 3.0], [4.0, -5.0, 6.0]], np.float32)


@pytest.fixture(scope="module")
def engine():
    with RunEngine() as warm:
        yield warm


def run_in(
    engine: RunEngine, path, tag_set, key, inputs, *, progress=None, cancelled=None, **options
) -> RunResult:
    """Run a signature of the model at ``path`` as a caller does: read the model, build the
    request (``options`` are RunRequest.of's), hand it to the engine."""
    request = RunRequest.of(open_model(path), tag_set, key, inputs, **options)
    return engine.run(request, progress=progress, cancelled=cancelled)


def load_target(path, tag_set: str) -> LoadRequest:
    model = open_model(path)
    return LoadRequest(model=model, meta_graph=model.meta_graph(tag_set))


_LOADED: dict = {}


def direct_call(path, tags: list[str], key: str, inputs: dict) -> dict[str, np.ndarray]:
    """The signature called by tf.saved_model.load in this process: the reference."""
    import tensorflow as tf

    cache_key = (str(path), tuple(tags))
    if cache_key not in _LOADED:
        _LOADED[cache_key] = tf.saved_model.load(str(path), tags=tags)
    fn = _LOADED[cache_key].signatures[key]
    return {k: v.numpy() for k, v in fn(**{k: tf.constant(v) for k, v in inputs.items()}).items()}


def tf_examples(rows: list[list[float]]) -> np.ndarray:
    """Serialized by TensorFlow's own tf.train.Example."""
    import tensorflow as tf

    out = np.empty(len(rows), dtype=object)
    out[:] = [
        tf.train.Example(
            features=tf.train.Features(
                feature={"x": tf.train.Feature(float_list=tf.train.FloatList(value=row))}
            )
        ).SerializeToString()
        for row in rows
    ]
    return out


def _assert_same(ours: dict, reference: dict) -> None:
    assert sorted(ours) == sorted(reference)
    for key, value in reference.items():
        assert ours[key].dtype == value.dtype, key
        if value.dtype.kind == "f":
            np.testing.assert_allclose(ours[key], value, rtol=1e-6, err_msg=key)
        else:
            np.testing.assert_array_equal(ours[key], value, err_msg=key)


ROWS = [[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]]
CASES = {
    "tf1 predict": ("tf1_multi_tag", "serve", "predict", lambda: {"x": X3}),
    "tf1 predict, serve,gpu": ("tf1_multi_tag", "serve,gpu", "predict", lambda: {"x": X3}),
    "tf1 classify": ("tf1_multi_tag", "serve", "classify", lambda: {"inputs": tf_examples(ROWS)}),
    "tf1 regress": ("tf1_multi_tag", "serve", "regress", lambda: {"inputs": tf_examples(ROWS)}),
    "tf.Module": (
        "module_multi_sig",
        "serve",
        "serving_default",
        lambda: {"x": np.random.default_rng(0).standard_normal((3, 10), np.float32)},
    ),
    "tf.Module, unknown rank": (
        "module_multi_sig",
        "serve",
        "other",
        lambda: {"anything": np.arange(8, dtype=np.float32).reshape(2, 2, 2)},
    ),
    "keras serve": (
        "keras_export",
        "serve",
        "serve",
        lambda: {"features": np.ones((2, 10), np.float32)},
    ),
    "keras serving_default": (
        "keras_export",
        "serve",
        "serving_default",
        lambda: {"features": np.linspace(-1, 1, 40, dtype=np.float32).reshape(4, 10)},
    ),
    "strings in, ints out": (
        "lookup",
        "serve",
        "serving_default",
        lambda: {"words": np.array([b"banana", b"kiwi", b"apple"], dtype=object)},
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_outputs_equal_a_direct_tensorflow_call(models, engine, case):
    name, tag_set, key, make_inputs = case
    path = models.path(name)
    inputs = make_inputs()

    result = run_in(engine, path, tag_set, key, inputs)

    _assert_same(result.outputs, direct_call(path, tag_set.split(","), key, inputs))
    assert result.output_devices == dict.fromkeys(result.outputs, CPU)
    assert result.kind == ("tf1" if name.startswith("tf1") else "tf2")


@pytest.mark.tf
def test_our_tf_examples_are_byte_for_byte_tensorflows():
    ours = [make_example({"x": row}) for row in ROWS]

    assert ours == list(tf_examples(ROWS))


def test_the_worker_stays_warm_and_the_model_stays_loaded(models, engine):
    path = models.path("keras_export")
    inputs = {"features": np.ones((1, 10), np.float32)}
    run_in(engine, path, "serve", "serve", inputs)
    pid = engine.pid

    again = run_in(engine, path, "serve", "serve", inputs, repeat=5)

    assert engine.pid == pid
    assert again.cached and again.load_seconds == 0.0 and again.start_seconds == 0.0
    assert len(again.warm_seconds) == 4
    assert again.warm_min <= again.warm_median <= again.warm_p90 <= max(again.warm_seconds)


def test_progress_reaches_done_and_concurrent_callers_take_turns(models, engine):
    path = models.path("keras_export")
    seen: list[tuple[float, str]] = []
    results = []

    def call(n: int) -> None:
        inputs = {"features": np.full((n, 10), n, np.float32)}
        results.append(
            run_in(engine, path, "serve", "serve", inputs, progress=lambda *a: seen.append(a))
        )

    threads = [threading.Thread(target=call, args=(n,)) for n in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(r.outputs["output_0"].shape[0] for r in results) == [1, 2, 3]
    assert seen.count((1.0, "done")) == 3
    assert any(text == "first call" for _, text in seen)


def test_a_tensorflow_error_is_a_run_error_and_the_worker_survives(models, engine):
    path = models.path("tf1_multi_tag")
    run_in(engine, path, "serve", "predict", {"x": X3})
    pid = engine.pid

    with pytest.raises(RunError, match="InvalidArgumentError") as e:
        run_in(engine, path, "serve", "classify", {"inputs": np.array([b"not an example"], object)})

    assert e.value.stage == "tensorflow"
    assert engine.pid == pid and engine.running


def test_load_ahead_then_run_cached(models, engine):
    path = models.path("control_flow")

    assert engine.load(load_target(path, "serve")) > 0
    assert engine.load(load_target(path, "serve")) == 0.0
    inputs = {"n": np.int32(3), "x": np.array([1.0, 2.0], np.float32)}
    result = run_in(engine, path, "serve", "serving_default", inputs)
    assert result.cached
    assert result.outputs["y"].tolist() == [8.0, 16.0]


def test_a_request_is_checked_where_it_is_built(models):
    model = open_model(models.path("keras_export"))
    other = open_model(models.path("module_multi_sig"))
    mg = model.meta_graph("serve")
    request = RunRequest.of(model, "serve", "serve", {"features": np.ones((2, 10))}, repeat=3)

    assert request.inputs["features"].dtype == np.float32  # float64 in, as the signature wants
    assert request.target.path == models.path("keras_export").resolve()
    pb = (request.target.path / "saved_model.pb").stat()
    assert request.target.stamp[:2] == (pb.st_mtime_ns, pb.st_size)
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.target.allow_risky_ops = True  # consent is given as it is built, or not at all
    with pytest.raises(SmlensError, match="the meta graph 'serve' is not this model's"):
        LoadRequest(model=model, meta_graph=other.meta_graph("serve"))
    with pytest.raises(SmlensError, match="no signature 'serving_default' in tag set 'serve'"):
        RunRequest(
            target=request.target,
            signature=other.meta_graph("serve").signatures["serving_default"],
            inputs={"x": np.ones((1, 10), np.float32)},
        )
    with pytest.raises(SmlensError, match="repeat: must be at least 1, not 0"):
        RunRequest(
            target=request.target, signature=mg.signatures["serve"], inputs=request.inputs, repeat=0
        )
    with pytest.raises(SmlensError, match="a checkpoint cannot be run; it needs a SavedModel"):
        RunRequest.of(open_model(models.path("tf1_ckpt_meta")), "serve", "x", {})


def test_smlens_run_reads_the_model_once(models, engine, capsys, monkeypatch):
    from smlens.core.formats import reader

    opened = []

    def counted_open(path, *args, **kwargs):
        opened.append(path)
        return real_open(path, *args, **kwargs)

    real_open = reader.open_model
    monkeypatch.setattr(reader, "open_model", counted_open)
    monkeypatch.setattr("smlens.cli.run.open_model", counted_open)
    path = models.path("keras_export")
    argv = ["--dir", str(path), "--tag_set", "serve", "--signature_def", "serve", "--fill", "ones"]

    assert run_main(argv, engine) == 0

    assert opened == [str(path)]
    assert "Result for output key output_0:" in capsys.readouterr().out


def test_risky_models_are_refused_before_the_worker_loads_them(models):
    fresh = RunEngine()
    path = models.path("risky_readfile")

    with pytest.raises(RiskyOpsError, match=r"ReadFile \(__inference"):
        fresh.load(load_target(path, "serve"))
    with pytest.raises(RiskyOpsError):
        run_in(fresh, path, "serve", "serving_default", {"filename": "/etc/hostname"})

    assert fresh.pid is None


def test_a_re_exported_model_is_loaded_again(models, engine, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(models.path("keras_export"), copy)
    inputs = {"features": np.ones((1, 10), np.float32)}
    run_in(engine, copy, "serve", "serve", inputs)

    stamp = (copy / "saved_model.pb").stat().st_mtime_ns + 10**9
    os.utime(copy / "saved_model.pb", ns=(stamp, stamp))
    result = run_in(engine, copy, "serve", "serve", inputs)

    assert not result.cached and result.load_seconds > 0


def test_the_cpu_is_listed(engine):
    devices = engine.devices()

    cpu = [d for d in devices if d.device_type == "CPU"]
    assert cpu and cpu[0].spec == "cpu:0" and cpu[0].name == "/physical_device:CPU:0"
    assert cpu[0].memory.get("host_total", 0) > 0


def test_asking_for_a_missing_gpu_is_an_error_not_a_fallback(models, engine):
    if any(d.device_type == "GPU" for d in engine.devices()):
        pytest.skip("this machine has a GPU")
    path = models.path("keras_export")
    run_in(engine, path, "serve", "serve", {"features": np.ones((1, 10), np.float32)})
    pid = engine.pid

    with pytest.raises(RunError, match="no GPU: this machine's TensorFlow sees only CPU:0") as e:
        run_in(
            engine,
            path,
            "serve",
            "serve",
            {"features": np.ones((1, 10), np.float32)},
            device="gpu:0",
        )

    assert e.value.stage == "device"
    assert engine.pid == pid  # a refusal, not a crash


@pytest.mark.parametrize(
    ("inputs", "device", "message"),
    [
        ({"features": np.ones((1, 10), np.complex64)}, "cpu", "is complex64; the signature wants"),
        ({"features": np.ones((1, 9), np.float32)}, "cpu", r"has shape \(1, 9\)"),
        ({"features": np.full((1, 10), "a")}, "cpu", "is <U1; the signature wants DT_FLOAT"),
        ({"feature": np.ones((1, 10))}, "cpu", "'feature' is not an input"),
        ({"features": np.ones((1, 10))}, "tpu:0", "not a device"),
    ],
)
def test_bad_inputs_are_refused_before_any_worker_starts(models, inputs, device, message):
    fresh = RunEngine()
    path = models.path("keras_export")

    with pytest.raises(SmlensError, match=message):
        run_in(fresh, path, "serve", "serve", inputs, device=device)

    assert fresh.pid is None and not fresh.running
    fresh.close()


def test_unknown_signature_and_unstartable_worker(models):
    path = models.path("keras_export")
    broken = RunEngine(worker_command=("/nonexistent/python",))

    with pytest.raises(
        SmlensError,
        match="no signature 'nope' in tag set 'serve'; it has: __saved_model_init_op, serve,",
    ):
        run_in(broken, path, "serve", "nope", {})
    with pytest.raises(RunError, match="cannot start the run worker"):
        run_in(broken, path, "serve", "serve", {"features": np.ones((1, 10))})


@pytest.mark.parametrize(
    "array",
    [
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.array(3, np.int64),
        np.array([b"a\x00", b"", "\u00e9".encode()], dtype=object),  # a trailing NUL stays
        np.array(b"scalar", dtype=object),
        np.ones((2, 2), dtype=ml_dtypes.bfloat16),
        np.zeros((0, 4), np.uint8),
    ],
    ids=["float32", "0-d int", "strings", "0-d string", "bfloat16", "empty"],
)
def test_array_files_round_trip_without_pickle(tmp_path, array):
    back = read_array(write_array(tmp_path / "a.npy", array))

    assert back.dtype == array.dtype and back.shape == array.shape
    assert back.tolist() == array.tolist()


def test_parse_device():
    assert [parse_device(d) for d in ("cpu", "GPU", "gpu:1", "/device:GPU:2")] == [
        "cpu:0",
        "gpu:0",
        "gpu:1",
        "gpu:2",
    ]


# -- crashes, kills and timeouts ------------------------------------------------------------

LONG_LOOP = {"n": np.int32(2**31 - 1), "x": np.ones(1, np.float32)}


def _during_first_call(action):
    """A progress hook and a thread that runs ``action`` once the worker is calling."""
    calling = threading.Event()

    def progress(fraction: float, text: str) -> None:
        if text == "first call":
            calling.set()

    def act() -> None:
        if calling.wait(120):
            action()

    thread = threading.Thread(target=act, daemon=True)
    thread.start()
    return progress, thread


def test_a_worker_killed_mid_run_is_worker_crashed_and_the_next_run_works(models, engine):
    engine.devices()
    first_pid = engine.pid
    progress, thread = _during_first_call(lambda: os.kill(first_pid, signal.SIGKILL))

    with pytest.raises(WorkerCrashed) as crashed:
        run_in(
            engine,
            models.path("control_flow"),
            "serve",
            "serving_default",
            LONG_LOOP,
            progress=progress,
        )
    thread.join()

    assert crashed.value.returncode == -signal.SIGKILL
    assert "died while running 'serving_default' (killed by signal 9, SIGKILL)" in str(
        crashed.value
    )
    assert not engine.running
    result = run_in(
        engine, models.path("keras_export"), "serve", "serve", {"features": np.ones((1, 10))}
    )
    assert result.start_seconds > 0 and engine.pid != first_pid
    assert result.outputs["output_0"].shape == (1, 1)


FAKE_WORKER = """
import json, os, signal, sys, time
mode = sys.argv[1]
print(f"fake worker: importing, pid {os.getpid()}", file=sys.stderr, flush=True)
if mode == "no-start":
    sys.exit("cannot start: libcudart.so.12 not found")
if mode == "slow-start":
    time.sleep(600)
print(json.dumps({"type": "ready", "tf_version": "fake"}), flush=True)
for line in sys.stdin:
    if mode == "segfault":
        print("Fatal Python error: Segmentation fault", file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGSEGV)
    calling = {"type": "progress", "id": json.loads(line)["id"], "fraction": 0.5}
    print(json.dumps({**calling, "text": "first call"}), flush=True)
    time.sleep(600)
"""


def _fake(mode: str, log=None) -> RunEngine:
    """An engine whose worker is FAKE_WORKER in ``mode``; ``log`` gets its stderr lines."""
    return RunEngine(worker_command=(sys.executable, "-c", FAKE_WORKER, mode), log=log)


def _run_keras(engine: RunEngine, models, **kw):
    path = models.path("keras_export")
    return run_in(engine, path, "serve", "serve", {"features": np.ones((1, 10))}, **kw)


def test_a_segfault_reports_the_signal_and_the_stderr_tail(models):
    with _fake("segfault") as fake, pytest.raises(WorkerCrashed) as crashed:
        _run_keras(fake, models)

    assert crashed.value.returncode == -signal.SIGSEGV
    assert "SIGSEGV" in str(crashed.value)
    assert "Fatal Python error: Segmentation fault" in str(crashed.value)


def test_a_worker_that_cannot_start_says_why(models):
    with _fake("no-start") as fake, pytest.raises(WorkerCrashed) as crashed:
        _run_keras(fake, models)

    assert "died while starting (exit status 1)" in str(crashed.value)
    assert "libcudart.so.12 not found" in str(crashed.value)


def test_timeout_kills_the_worker(models):
    with _fake("hang") as fake:
        # The worker never answers: only the run's own timeout ends this call (a timeout
        # that is not kept would hang here until the suite's per-test timeout fails it).
        with pytest.raises(RunTimedOut, match="timed out"):
            _run_keras(fake, models, timeout=1.0)

        assert not fake.running


def test_restart_gives_a_fresh_ready_worker():
    with _fake("hang") as fake:
        fake.restart()
        first = fake.pid

        fake.restart()

        assert fake.running and fake.pid != first and fake.tf_version == "fake"


def _gone(pid: int) -> bool:
    """The process has ended and been reaped (the engine waits for the worker it drops)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.parametrize("how", ["stop", "kill", "cancelled hook"])
@pytest.mark.parametrize("when", ["before the worker starts", "while it starts", "mid-call"])
def test_stopping_a_call_raises_run_cancelled(models, how, when):
    """A stop, a kill or the cancelled hook ends the call wherever it is, at once; the
    worker it started is gone. Each moment is reached through a hook, never a timer."""
    stopped = threading.Event()
    spawned: list[int] = []
    fake = _fake("slow-start" if when != "mid-call" else "hang")

    def act() -> None:
        if how == "cancelled hook":
            stopped.set()
        else:
            getattr(fake, how)()

    def progress(fraction: float, text: str) -> None:
        if (when, text) in (
            ("before the worker starts", "starting TensorFlow"),
            ("mid-call", "first call"),
        ):
            spawned.append(fake.pid)
            act()

    def log(line: str) -> None:  # the worker process exists and is importing
        if line.startswith("fake worker: importing") and when == "while it starts":
            spawned.append(int(line.rsplit(" ", 1)[1]))
            act()

    fake.log = log
    with fake, pytest.raises(RunCancelled, match="stopped"):
        _run_keras(fake, models, progress=progress, cancelled=stopped.is_set)

    assert not fake.running and fake.pid is None
    if when == "before the worker starts":
        assert spawned == [None]  # stopped before a process was made: none was
    else:
        assert len(spawned) == 1 and _gone(spawned[0])


def test_a_stop_between_calls_does_not_stop_the_next(models):
    with _fake("hang") as fake:
        fake.stop()
        fake.kill()
        calling = threading.Event()

        def progress(fraction: float, text: str) -> None:
            if text == "first call":
                calling.set()
                fake.stop()

        with pytest.raises(RunCancelled):
            _run_keras(fake, models, progress=progress)

        assert calling.is_set()  # the earlier stop and kill did not end this call early


# -- the command line -----------------------------------------------------------------------


def saved_model_cli_run(argv: list[str]) -> str:
    """stdout of ``saved_model_cli run <argv>``, run in this process."""
    from absl import flags
    from tensorflow.python.tools import saved_model_cli

    flags.FLAGS.unparse_flags()
    flags.FLAGS(["saved_model_cli", *argv])
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            saved_model_cli.run()
    finally:
        flags.FLAGS.unparse_flags()
    return buffer.getvalue()


def test_cli_prints_results_as_saved_model_cli_then_device_and_timings(
    models, engine, capsys, tmp_path
):
    argv = ["--dir", str(models.path("tf1_multi_tag")), "--tag_set", "serve"]
    argv += ["--signature_def", "predict", "--input_exprs", "x=[[1.0,2.0,3.0],[4.0,5.0,6.0]]"]
    theirs = saved_model_cli_run([*argv, "--outdir", str(tmp_path / "theirs")])
    capsys.readouterr()

    assert run_main([*argv, "--repeat", "3", "--outdir", str(tmp_path / "ours")], engine) == 0
    ours = capsys.readouterr().out

    expected = theirs.replace(str(tmp_path / "theirs"), str(tmp_path / "ours"))
    assert ours.startswith(expected)
    tail = ours[len(expected) :].splitlines()
    assert tail[0] == f"Device: {CPU}"
    assert re.fullmatch(
        r"Timings: (worker start [\d.]+ s, )?load [\d.]+ s, first call [\d.]+ ms", tail[1]
    )
    assert re.fullmatch(
        r"Warm calls \(2\): min [\d.]+ ms, median [\d.]+ ms, p90 [\d.]+ ms", tail[2]
    )
    for key in ("scores", "classes"):
        saved = np.load(tmp_path / "ours" / f"{key}.npy", allow_pickle=True)
        np.testing.assert_array_equal(
            saved, np.load(tmp_path / "theirs" / f"{key}.npy", allow_pickle=True)
        )


def test_cli_input_examples_and_json(models, engine, capsys):
    path = models.path("tf1_multi_tag")
    argv = ["--dir", str(path), "--tag_set", "serve", "--signature_def", "classify", "--json"]
    examples = "inputs=" + json.dumps([{"x": row} for row in ROWS])

    assert run_main([*argv, "--input_examples", examples], engine) == 0
    printed = json.loads(capsys.readouterr().out)

    reference = direct_call(path, ["serve"], "classify", {"inputs": tf_examples(ROWS)})
    np.testing.assert_allclose(printed["outputs"]["scores"]["values"], reference["scores"])
    assert printed["outputs"]["classes"]["values"] == [["apple", "banana"]] * 2
    assert printed["outputs"]["scores"]["device"] == CPU
    assert printed["timings"]["first_call_seconds"] > 0


def test_cli_fill_with_a_batch(models, engine, capsys):
    argv = ["--dir", str(models.path("keras_export")), "--tag_set", "serve"]
    argv += ["--signature_def", "serving_default", "--fill", "normal", "--batch", "4", "--json"]

    assert run_main(argv, engine) == 0

    assert json.loads(capsys.readouterr().out)["outputs"]["output_0"]["shape"] == [4, 1]


def test_cli_outdir_never_clobbers_nor_writes_into_the_model(models, engine, tmp_path):
    path = models.path("keras_export")
    argv = ["--dir", str(path), "--tag_set", "serve", "--signature_def", "serve", "--fill", "ones"]
    (tmp_path / "output_0.npy").write_bytes(b"keep")

    with pytest.raises(SmlensError, match="already exists; add --overwrite"):
        run_main([*argv, "--outdir", str(tmp_path)], engine)
    with pytest.raises(SmlensError, match="will not write into the model folder"):
        run_main([*argv, "--outdir", str(path / "variables")], engine)

    assert (tmp_path / "output_0.npy").read_bytes() == b"keep"
    assert run_main([*argv, "--outdir", str(tmp_path), "--overwrite"], engine) == 0
    assert np.load(tmp_path / "output_0.npy").shape == (1, 1)


def test_cli_injection_is_refused_and_nothing_runs(models, capsys, tmp_path):
    target = tmp_path / "x"
    argv = ["run", "--dir", str(models.path("keras_export")), "--tag_set", "serve"]
    expr = f"features=__import__('os').system('touch {target}')"

    assert main([*argv, "--signature_def", "serve", "--input_exprs", expr]) == 2

    assert "calling \"__import__('os').system\" is not allowed" in capsys.readouterr().err
    assert not target.exists()


def test_cli_refuses_risky_ops_with_exit_2(models):
    path = models.path("risky_readfile")
    argv = ["run", "--dir", str(path), "--tag_set", "serve", "--signature_def", "serving_default"]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "smlens.cli.main",
            *argv,
            "--input_exprs",
            "filename='/etc/hostname'",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 2
    assert "refusing to run" in result.stderr and "ReadFile (__inference" in result.stderr
    assert "add --allow-risky-ops to run it anyway" in result.stderr
    assert result.stdout == ""


def test_cli_allow_risky_ops_runs_it(models, engine, capsys, tmp_path):
    (tmp_path / "hello.txt").write_bytes(b"hello from a file")
    argv = ["--dir", str(models.path("risky_readfile")), "--tag_set", "serve"]
    argv += ["--signature_def", "serving_default"]
    argv += ["--input_exprs", f"filename='{tmp_path / 'hello.txt'}'", "--allow-risky-ops"]

    assert run_main(argv, engine) == 0

    assert "Result for output key contents:\nb'hello from a file'\n" in capsys.readouterr().out


def test_a_tf1_export_runs_without_the_loader_s_deprecation_warning_in_its_output(models):
    """TensorFlow logs "load (from tensorflow.python.saved_model.loader_impl) is deprecated"
    once per process, on the first TF1 load: a fresh worker, so the first load is this one."""
    lines: list[str] = []
    with RunEngine(log=lines.append) as fresh:
        result = run_in(fresh, models.path("tf1_multi_tag"), "serve", "predict", {"x": X3})
    said = result.output + "\n".join(lines)
    assert result.outputs  # it ran
    assert "is deprecated" not in said
