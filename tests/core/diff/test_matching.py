"""Scope matching across a consistent rename and variable pairing by evidence, on small
hand-built inputs (no TensorFlow)."""

from __future__ import annotations

import numpy as np

from smlens.core.diff.function_matching import tensor_text
from smlens.core.diff.node_diff import op_version_rename
from smlens.core.diff.scopes import match_scopes, rename
from smlens.core.diff.variable_pairing import pair_variables
from smlens.core.model import Model, Shape, TensorValue, Variable


def _layer(scope: str, name: str, act: str = "Relu") -> dict[str, str]:
    return {
        f"{scope}/{name}/Cast/ReadVariableOp": "ReadVariableOp",
        f"{scope}/{name}/MatMul": "MatMul",
        f"{scope}/{name}/BiasAdd/ReadVariableOp": "ReadVariableOp",
        f"{scope}/{name}/BiasAdd": "BiasAdd",
        f"{scope}/{name}/{act}": act,
    }


def test_a_suffixed_outer_scope_and_a_renamed_layer_are_matched():
    a = {**_layer("functional_1", "dense_1_1"), **_layer("functional_1", "probs_1", "Softmax")}
    b = {
        **_layer("functional_1_1", "dense_1_1"),
        **_layer("functional_1_1", "dense_extra_1"),
        **_layer("functional_1_1", "probabilities_1", "Softmax"),
    }

    renames = match_scopes(a, b)

    assert renames == {
        "functional_1_1": "functional_1",
        "functional_1_1/probabilities_1": "functional_1/probs_1",
    }
    mapped = {rename(n, renames) for n in b}
    assert set(a) <= mapped
    assert mapped - set(a) == {
        n.replace("functional_1_1", "functional_1")
        for n in _layer("functional_1_1", "dense_extra_1")
    }


def test_scopes_with_different_contents_stay_apart():
    a = {"conv/Conv2D": "Conv2D", "conv/BiasAdd": "BiasAdd"}
    b = {"lstm/while": "While", "lstm/zeros": "Fill"}

    assert match_scopes(a, b) == {}


def _var(name: str, key: str, shape=(3,)) -> Variable:
    return Variable(key=key, name=name, dtype="DT_FLOAT", shape=Shape(tuple(shape)))


class _Entry:
    def __init__(self, crc: int, size: int):
        self.crc32c, self.size = crc, size


class _Bundle:
    def __init__(self, sums: dict[str, int]):
        self.sums = sums

    def parts(self, key):
        return [(None, _Entry(self.sums[key], 12))]


def test_variables_pair_by_name_then_bytes_then_layer_never_by_index():
    a = Model(path=None, format="saved_model")
    b = Model(path=None, format="saved_model")
    a.variables = [
        _var("dense/kernel", "variables/0/.ATTRIBUTES/VARIABLE_VALUE", (4, 3)),
        _var("probs/kernel", "variables/1/.ATTRIBUTES/VARIABLE_VALUE", (3, 2)),
        _var("probs/bias", "variables/2/.ATTRIBUTES/VARIABLE_VALUE", (2,)),
    ]
    b.variables = [
        _var("dense/kernel", "variables/0/.ATTRIBUTES/VARIABLE_VALUE", (4, 3)),
        _var("extra/kernel", "variables/1/.ATTRIBUTES/VARIABLE_VALUE", (3, 3)),
        _var("extra/bias", "variables/2/.ATTRIBUTES/VARIABLE_VALUE", (3,)),
        _var("out/kernel", "variables/3/.ATTRIBUTES/VARIABLE_VALUE", (3, 2)),
        _var("out/bias", "variables/4/.ATTRIBUTES/VARIABLE_VALUE", (2,)),
    ]
    a.checkpoint = _Bundle({v.key: i for i, v in enumerate(a.variables)})
    b.checkpoint = _Bundle({v.key: 10 + i for i, v in enumerate(b.variables)})
    b.checkpoint.sums["variables/4/.ATTRIBUTES/VARIABLE_VALUE"] = 2  # out/bias = probs/bias

    pairing = pair_variables(a, b)

    pairs = {(p.a.name, p.b.name): p.how for p in pairing.pairs}
    assert pairs == {
        ("dense/kernel", "dense/kernel"): "name",
        ("probs/bias", "out/bias"): "checksum",
        ("probs/kernel", "out/kernel"): "layer",
    }
    assert pairing.removed == []
    assert sorted(v.name for v in pairing.added) == ["extra/bias", "extra/kernel"]


def _tensor(**fields) -> TensorValue:
    from smlens.core.formats import proto
    from smlens.core.formats.attrs import decode_tensor

    message = proto.TensorProto(dtype=1, **fields)  # DT_FLOAT
    message.tensor_shape.dim.add(size=8)
    return decode_tensor(message)


def test_constants_compare_by_content_not_by_encoding():
    values = np.arange(8, dtype=np.float32)
    packed = _tensor(tensor_content=values.tobytes())
    repeated = _tensor(float_val=values.tolist())
    other = _tensor(float_val=[*values.tolist()[:7], 9.0])

    assert tensor_text(packed) == tensor_text(repeated)
    assert tensor_text(packed) != tensor_text(other)


def test_op_version_renames_are_recognised():
    assert op_version_rename("Add", "AddV2")
    assert op_version_rename("BatchMatMulV2", "BatchMatMulV3")
    assert not op_version_rename("Add", "Sub")
    assert not op_version_rename("Add", "Add")
