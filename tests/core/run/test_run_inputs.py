"""Inputs for ``smlens run``, without TensorFlow: fills, safe expressions, array files,
tf.Examples, and the check against the signature."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from smlens.core.errors import SmlensError
from smlens.core.formats import proto
from smlens.core.model import Shape, Signature, TensorInfo
from smlens.core.run.inputs import (
    check_inputs,
    collect_inputs,
    eval_expr,
    fill_input,
    load_array_file,
    make_example,
    parse_input_examples,
    parse_input_exprs,
    parse_inputs_arg,
)


def _info(key: str, dtype: str = "DT_FLOAT", dims=(-1, 3), **kw) -> TensorInfo:
    return TensorInfo(key, dtype, Shape(dims), f"{key}:0", **kw)


def _signature(*infos: TensorInfo, defaults=None) -> Signature:
    return Signature("sig", "m", {i.key: i for i in infos}, {}, defaults or {})


# -- fill_input ---------------------------------------------------------------------------


def test_fill_puts_the_batch_in_the_first_unknown_dim_and_1_elsewhere():
    array = fill_input(_info("x", dims=(-1, 3, -1)), "ones", batch_size=4)

    assert array.shape == (4, 3, 1)
    assert array.dtype == np.float32
    assert np.all(array == 1)


def test_fill_of_unknown_rank_is_a_vector_of_the_batch():
    assert fill_input(_info("x", "DT_INT64", None), batch_size=5).shape == (5,)


def test_randint_fill_stays_in_range_and_is_reproducible_with_a_seed():
    info = _info("ids", "DT_INT32", (100,))
    first = fill_input(info, "randint", low=3, high=7, seed=1)

    assert first.dtype == np.int32
    assert first.min() >= 3 and first.max() < 7
    assert np.array_equal(first, fill_input(info, "randint", low=3, high=7, seed=1))


@pytest.mark.parametrize(
    ("dtype", "mode", "expected"),
    [
        ("DT_BOOL", "ones", np.array([True, True])),
        ("DT_BOOL", "zeros", np.array([False, False])),
        ("DT_STRING", "zeros", np.array([b"", b""], dtype=object)),
        ("DT_HALF", "ones", np.ones(2, np.float16)),
    ],
)
def test_fill_of_other_dtypes(dtype, mode, expected):
    array = fill_input(_info("t", dtype, (2,)), mode)

    assert array.dtype == expected.dtype
    assert array.tolist() == expected.tolist()


def test_normal_fill_is_float_noise():
    array = fill_input(_info("x", dims=(1000,)), "normal", seed=0)

    assert array.dtype == np.float32
    assert abs(array.mean()) < 0.2 and 0.8 < array.std() < 1.2


def test_fill_refuses_unknown_modes_and_resource_inputs():
    with pytest.raises(SmlensError, match="unknown fill 'twos'"):
        fill_input(_info("x"), "twos")
    with pytest.raises(SmlensError, match="DT_RESOURCE cannot be fed"):
        fill_input(_info("r", "DT_RESOURCE", ()))


# -- eval_expr ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("np.ones((2,3))", np.ones((2, 3))),
        ("numpy.zeros(2, dtype=np.int32)", np.zeros(2, np.int32)),
        ("np.array([[1, -2.5]], np.float32)", np.array([[1, -2.5]], np.float32)),
        ("np.full((2,), np.nan)", np.full((2,), np.nan)),
        ("[[1.0, 2.0], [3.0, -4.0]]", [[1.0, 2.0], [3.0, -4.0]]),
        ("{'a': (1, b'x', None, True)}", {"a": (1, b"x", None, True)}),
        ("np.linspace(0, 1, 5)", np.linspace(0, 1, 5)),
        ("np.eye(3, dtype=np.float16)", np.eye(3, dtype=np.float16)),
    ],
)
def test_eval_expr_builds_literals_and_numpy_constructors(text, expected):
    value = eval_expr(text)

    if isinstance(expected, np.ndarray):
        assert value.dtype == expected.dtype
        np.testing.assert_array_equal(value, expected)
    else:
        assert value == expected


def test_random_constructors_give_the_asked_shape_and_range():
    ints = eval_expr("np.random.randint(0, 5, size=(3, 4))")
    normal = eval_expr("np.random.normal(0.0, 1.0, (2,))")

    assert ints.shape == (3, 4) and ints.min() >= 0 and ints.max() < 5
    assert normal.shape == (2,)
    assert eval_expr("np.random.rand(2, 2)").shape == (2, 2)


def test_code_injection_is_refused_and_never_runs(tmp_path):
    target = tmp_path / "x"

    with pytest.raises(SmlensError) as raised:
        eval_expr(f"__import__('os').system('touch {target}')")

    assert "calling \"__import__('os').system\" is not allowed" in str(raised.value)
    assert not target.exists()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("np.load('/etc/passwd')", "calling 'np.load'"),
        ("os.system('ls')", "calling 'os.system'"),
        ("np.ones.__globals__", "the name 'np.ones.__globals__'"),
        ("(lambda: 1)()", "calling 'lambda: 1'"),
        ("[x for x in (1, 2)]", "ListComp"),
        ("1 + 1", "BinOp"),
        ("np.ones(2)[0]", "Subscript"),
        ("np.arange(6).reshape(2, 3)", "calling 'np.arange(6).reshape'"),
        ("open", "the name 'open'"),
        ("np.array(*[1])", "*args"),
        ("np.array([1], like=np.ones(1))", "like="),
        ("-'a'", "a sign on"),
    ],
)
def test_everything_else_is_refused_naming_the_node(text, named):
    with pytest.raises(SmlensError, match="not allowed") as raised:
        eval_expr(text)

    assert named in str(raised.value)


def test_syntax_errors_are_smlens_errors():
    with pytest.raises(SmlensError, match="not a valid expression"):
        eval_expr("np.ones((2,")


def test_input_exprs_split_on_semicolons():
    values = parse_input_exprs("x=np.ones(2); y=[1, 2];")

    assert set(values) == {"x", "y"}
    assert values["y"] == [1, 2]
    with pytest.raises(SmlensError, match="<input_key>=<expression>"):
        parse_input_exprs("np.ones(2)")


# -- files --------------------------------------------------------------------------------


def test_inputs_arg_follows_saved_model_cli_syntax():
    parsed = parse_inputs_arg("x=/tmp/a.npy;y=/tmp/b.npz[k];")

    assert parsed == {"x": ("/tmp/a.npy", None), "y": ("/tmp/b.npz", "k")}
    with pytest.raises(SmlensError, match="<input_key>=<filename>"):
        parse_inputs_arg("x=/tmp/a.npz[k")


def test_npy_and_npz_files_load(tmp_path):
    np.save(tmp_path / "a.npy", np.arange(3))
    np.savez(tmp_path / "b.npz", k=np.ones(2), j=np.zeros(1))
    np.savez(tmp_path / "one.npz", only=np.full(2, 7))

    npy, warnings = load_array_file(tmp_path / "a.npy", "ignored")
    assert npy.tolist() == [0, 1, 2]
    assert "the name 'ignored' is ignored" in warnings[0]
    assert load_array_file(tmp_path / "b.npz", "j")[0].tolist() == [0.0]
    assert load_array_file(tmp_path / "one.npz")[0].tolist() == [7, 7]
    with pytest.raises(SmlensError, match=r"holds 2 arrays \(k, j\)"):
        load_array_file(tmp_path / "b.npz")
    with pytest.raises(SmlensError, match="holds no array 'z'"):
        load_array_file(tmp_path / "b.npz", "z")


def test_pickled_files_are_not_unpickled(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)

    with pytest.raises(SmlensError, match="without unpickling"):
        load_array_file(tmp_path / "obj.npy")
    with pytest.raises(SmlensError, match="no such file"):
        load_array_file(tmp_path / "missing.npy")


# -- tf.Example ---------------------------------------------------------------------------


def test_examples_serialize_each_feature_kind():
    data = make_example({"f": [1.5, 2.0], "s": ["a", b"b"], "i": [3, -4]})
    parsed = proto.Example.FromString(data).features.feature

    assert list(parsed["f"].float_list.value) == [1.5, 2.0]
    assert list(parsed["s"].bytes_list.value) == [b"a", b"b"]
    assert list(parsed["i"].int64_list.value) == [3, -4]


def test_input_examples_become_an_object_array_of_serialized_examples():
    arrays = parse_input_examples('inputs=[{"x":[1.0,2.0,3.0]}, {"x":[4.0,5.0,6.0]}]')
    batch = arrays["inputs"]

    assert batch.dtype == object and batch.shape == (2,)
    second = proto.Example.FromString(batch[1])
    assert list(second.features.feature["x"].float_list.value) == [4.0, 5.0, 6.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('inputs={"x":[1.0]}', "expected a list of feature dicts"),
        ('inputs=[{"x":1.0}]', "must be a non-empty list"),
        ('inputs=[{"x":[1.0, "a"]}]', "mixed value types"),
        ('inputs=[{"x":[None]}]', "NoneType is not supported"),
    ],
)
def test_bad_examples_are_refused(text, message):
    with pytest.raises(SmlensError, match=message):
        parse_input_examples(text)


# -- check_inputs -------------------------------------------------------------------------


def test_values_become_the_signature_dtype_when_nothing_is_lost_in_kind():
    signature = _signature(_info("x"), _info("n", "DT_INT32", ()), _info("s", "DT_STRING", (-1,)))

    arrays = check_inputs(signature, {"x": [[1.0, 2.0, 3.0]], "n": 4, "s": ["ab", b"c"]})

    assert arrays["x"].dtype == np.float32 and arrays["x"].shape == (1, 3)
    assert arrays["n"].dtype == np.int32 and arrays["n"] == 4
    assert arrays["s"].dtype == object and arrays["s"].tolist() == [b"ab", b"c"]


@pytest.mark.parametrize(
    ("info", "value", "message"),
    [
        (_info("x"), np.ones((2, 4)), r"input 'x' has shape \(2, 4\); the signature wants "),
        (_info("x"), np.ones(3), r"has shape \(3,\)"),
        (_info("n", "DT_INT32", ()), 1.5, "input 'n' is float64; the signature wants DT_INT32"),
        (_info("n", "DT_INT8", ()), 300, "values of int64 do not fit in int8"),
        (_info("x"), [["a", "b", "c"]], "input 'x' is <U1"),
        (_info("b", "DT_BOOL", (1,)), [1], "input 'b' is int64; the signature wants DT_BOOL"),
        (_info("s", "DT_STRING", ()), 1.0, "input 's': float is not a string"),
        (_info("s", "DT_STRING", (1,)), np.array([1], dtype=object), "int is not a string"),
        (_info("x", encoding="coo_sparse"), np.ones((1, 3)), "is a coo_sparse tensor"),
    ],
)
def test_inputs_that_do_not_fit_are_refused_by_name(info, value, message):
    with pytest.raises(SmlensError, match=message):
        check_inputs(_signature(info), {info.key: value})


def test_missing_and_unknown_keys_are_named():
    signature = _signature(_info("x"), _info("y", "DT_INT64", ()), defaults={"y": 3})

    with pytest.raises(SmlensError, match=r"missing input: x \(DT_FLOAT \(\?, 3\)\)"):
        check_inputs(signature, {})
    with pytest.raises(SmlensError, match="'z' is not an input; the inputs are: x, y"):
        check_inputs(signature, {"x": np.ones((1, 3)), "z": 1})
    assert list(check_inputs(signature, {"x": np.ones((1, 3))})) == ["x"]  # y has a default


def test_collect_inputs_later_flags_win_and_fill_the_rest(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((1, 3), np.float32))
    signature = _signature(_info("x"), _info("y"), _info("z", "DT_INT32", (-1,)))

    values, warnings = collect_inputs(
        signature,
        inputs=f"x={tmp_path / 'x.npy'}",
        input_exprs="x=np.ones((1,3));y=[[2.0,2.0,2.0]]",
        fill="randint",
        batch_size=6,
        seed=0,
    )

    assert values["x"].tolist() == [[1.0, 1.0, 1.0]]
    assert values["y"] == [[2.0, 2.0, 2.0]]
    assert values["z"].shape == (6,) and values["z"].dtype == np.int32
    assert warnings == ["input 'x' is given more than once: --input_exprs wins"]


# -- limits (issue 13): sizes checked before anything is allocated ---------------------------


def _peak_of(fn) -> int:
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("mode", ["zeros", "normal", "randint"])
def test_fill_of_absurd_dims_is_refused_before_allocating(mode):
    info = _info("x", dims=(2**40, 3))

    def fill():
        with pytest.raises(SmlensError, match=r"input 'x': --fill of shape \[1099511627776, 3\]"):
            fill_input(info, mode)

    assert _peak_of(fill) < 10 << 20


@pytest.mark.parametrize("batch", [0, -5])
def test_batch_below_one_is_refused(batch):
    with pytest.raises(SmlensError, match=f"--batch: must be 1 or more, not {batch}"):
        collect_inputs(_signature(_info("x")), fill="zeros", batch_size=batch)


def test_huge_batch_is_refused_and_the_limit_can_be_raised():
    signature = _signature(_info("x", dims=(-1, 1000)))
    with pytest.raises(SmlensError, match=r"over the 2\.0 GiB limit .*--max-input-bytes"):
        collect_inputs(signature, fill="normal", batch_size=100_000_000)
    with pytest.raises(SmlensError, match=r"over the 1\.0 KiB limit"):
        collect_inputs(signature, fill="zeros", batch_size=1, max_bytes=1024)
    values, _ = collect_inputs(signature, fill="zeros", batch_size=2, max_bytes=1 << 20)
    assert values["x"].shape == (2, 1000)


def test_limit_covers_all_inputs_together(tmp_path):
    signature = _signature(_info("x", dims=(100,)), _info("y", dims=(100,)))
    # 100 float32 drawn as float64: 1,200 bytes each; two of them pass 2,000 bytes.
    with pytest.raises(SmlensError, match="input 'y'"):
        collect_inputs(signature, fill="zeros", max_bytes=2000)


def _npy_claiming(path: Path, shape: tuple[int, ...]) -> None:
    """A .npy whose header claims ``shape`` but holds 12 bytes of data."""
    header = {"descr": "<f4", "fortran_order": False, "shape": shape}
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        f.write(b"\0" * 12)


def test_npy_header_claiming_10_12_elements_is_refused_before_loading(tmp_path):
    path = tmp_path / "big.npy"
    _npy_claiming(path, (10**12,))

    def load():
        with pytest.raises(SmlensError, match="header claims 4000000000000 bytes of data"):
            load_array_file(str(path))

    assert _peak_of(load) < 10 << 20


def test_npy_over_the_budget_is_refused(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros(1000, np.float32))
    with pytest.raises(SmlensError, match=r"an array of shape \[1000\] needs 3\.9 KiB"):
        collect_inputs(
            _signature(_info("x", dims=(1000,))), inputs=f"x={tmp_path / 'x.npy'}", max_bytes=1000
        )
    np.savez(tmp_path / "x.npz", a=np.zeros(1000, np.float32))
    with pytest.raises(SmlensError, match=r"array 'a' needs 3\.9 KiB"):
        collect_inputs(
            _signature(_info("x", dims=(1000,))), inputs=f"x={tmp_path / 'x.npz'}", max_bytes=1000
        )


def test_npy_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.npy")
    with pytest.raises(SmlensError, match="FIFO"):
        load_array_file(str(tmp_path / "pipe.npy"))


@pytest.mark.parametrize(
    "expr",
    [
        "np.zeros((1000000, 1000000))",
        "np.zeros((1000000, 1000000), dtype=np.float64)",
        "np.random.randint(0, 5, size=(100000, 100000))",
        "np.ones(1000000000000)",
        "np.random.rand(100000, 100000)",
        "np.random.normal(0, 1, size=(100000, 100000))",
        "np.arange(1e15)",
        "np.linspace(0, 1, 10000000000)",
        "np.eye(1000000)",
        "np.full((100000, 100000), 7)",
    ],
)
def test_numpy_constructors_are_sized_before_they_run(expr):
    def run():
        with pytest.raises(SmlensError, match=r"needs .* over the .* limit on one run's inputs"):
            eval_expr(expr)

    assert _peak_of(run) < 10 << 20
