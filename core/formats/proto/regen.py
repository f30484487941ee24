"""Regenerate the vendored TensorFlow schemas: ``python -m smlens.core.formats.proto.regen``.

Reads the serialized FileDescriptorProtos embedded in the installed TensorFlow's ``*_pb2.py``
sources (as text, so TensorFlow's ``__init__`` does not run) and writes one FileDescriptorSet,
``tf_schemas.binpb``, with every file the roots below need. TF Serving's ``PredictionLog``
(the records of a warmup file) comes the same way from the ``tensorflow-serving-api``
wheel's sources; it only needs to be unpacked beside TensorFlow
(``pip install --no-deps tensorflow-serving-api``: it names ``tensorflow``, not
``tensorflow-cpu``, as its dependency). It then imports TensorFlow once
to dump the registry of op definitions (``tf_ops.binpb``, an OpList), used to fill stripped
default attrs and to mark stateful ops without TensorFlow at run time.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2

HERE = Path(__file__).resolve().parent
SCHEMAS = HERE / "tf_schemas.binpb"
OPS = HERE / "tf_ops.binpb"

ROOTS = [
    "tensorflow/core/protobuf/saved_model.proto",
    "tensorflow/core/protobuf/meta_graph.proto",
    "tensorflow/core/protobuf/saved_object_graph.proto",
    "tensorflow/core/protobuf/trackable_object_graph.proto",
    "tensorflow/core/protobuf/tensor_bundle.proto",
    "tensorflow/core/protobuf/fingerprint.proto",
    "tensorflow/core/framework/graph.proto",
    "tensorflow/core/framework/op_def.proto",
    "tensorflow/core/example/example.proto",
    "tensorflow/python/training/checkpoint_state.proto",
    "tensorflow_serving/apis/prediction_log.proto",
]


def _site_root() -> Path:
    spec = importlib.util.find_spec("tensorflow")
    if spec is None or spec.origin is None:
        sys.exit("regen needs tensorflow installed: pip install -e .[tf]")
    return Path(spec.origin).parent.parent


def _serving_root() -> Path:
    spec = importlib.util.find_spec("tensorflow_serving")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("regen needs TF Serving's schemas: pip install --no-deps tensorflow-serving-api")
    return Path(next(iter(spec.submodule_search_locations))).parent


def _serialized_file(pb2_path: Path) -> bytes:
    """The bytes passed to AddSerializedFile in a generated _pb2.py module."""
    tree = ast.parse(pb2_path.read_text())
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", "") == "AddSerializedFile"
            and node.args
        ):
            return ast.literal_eval(node.args[0])
    raise ValueError(f"{pb2_path}: no AddSerializedFile call")


def _well_known(name: str) -> descriptor_pb2.FileDescriptorProto:
    module = name.replace("/", ".").removesuffix(".proto") + "_pb2"
    proto = descriptor_pb2.FileDescriptorProto()
    __import__(module, fromlist=["DESCRIPTOR"]).DESCRIPTOR.CopyToProto(proto)
    return proto


def _pb2_source(name: str, site: Path, serving: Path) -> Path:
    """Where the generated module of ``name`` lives: TF Serving's wheel for its own files;
    TensorFlow keeps XLA's and TSL's (``xla/tsl/...``) under ``tensorflow/compiler/``."""
    module = name.replace(".proto", "_pb2.py")
    if name.startswith("tensorflow_serving/"):
        return serving / module
    for candidate in (site / module, site / "tensorflow" / "compiler" / module):
        if candidate.is_file():
            return candidate
    return site / module


def build_descriptor_set(site: Path, serving: Path) -> descriptor_pb2.FileDescriptorSet:
    done: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    order: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name.startswith("google/protobuf/"):
            proto = _well_known(name)
        else:
            proto = descriptor_pb2.FileDescriptorProto.FromString(
                _serialized_file(_pb2_source(name, site, serving))
            )
        done[name] = proto
        for dep in proto.dependency:
            visit(dep)
        order.append(name)  # dependencies first, as DescriptorPool.Add needs

    for root in ROOTS:
        visit(root)
    return descriptor_pb2.FileDescriptorSet(file=[done[n] for n in order])


def dump_op_list() -> bytes:
    from tensorflow.python.client import pywrap_tf_session

    buffer = pywrap_tf_session.TF_GetAllOpList()
    try:
        return bytes(pywrap_tf_session.TF_GetBuffer(buffer))
    finally:
        pywrap_tf_session.TF_DeleteBuffer(buffer)


def main() -> None:
    fds = build_descriptor_set(_site_root(), _serving_root())
    SCHEMAS.write_bytes(fds.SerializeToString(deterministic=True))
    print(f"wrote {SCHEMAS.name}: {len(fds.file)} files")
    OPS.write_bytes(dump_op_list())
    print(f"wrote {OPS.name}: {OPS.stat().st_size} bytes")


if __name__ == "__main__":
    main()
