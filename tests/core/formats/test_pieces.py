"""parse_in_pieces: the same message as one parse, in pieces no bigger than asked (save a
single field that cannot be split), and protobuf's own error on damaged data."""

from __future__ import annotations

import threading

import pytest
from google.protobuf.message import DecodeError

from smlens.core.formats import pieces, proto
from smlens.core.formats.pieces import parse_in_pieces

PIECE = 2048


def _big_saved_model(nodes: int = 3000) -> bytes:
    """A SavedModel whose one function holds ``nodes`` NodeDefs: ~100 bytes each, so the
    function (inside meta graph, graph and library) is far bigger than PIECE."""
    sm = proto.SavedModel(saved_model_schema_version=1)
    mg = sm.meta_graphs.add()
    mg.meta_info_def.tags.append("serve")
    fn = mg.graph_def.library.function.add()
    fn.signature.name = "__inference_big_1"
    for i in range(nodes):
        node = fn.node_def.add(name=f"block_{i // 100}/unit_{i % 100}/mul", op="Mul")
        node.input.extend([f"x_{i}:output:0", "^c"])
        node.attr["T"].type = 1
    fn.ret["y"] = f"block_{(nodes - 1) // 100}/unit_99/mul:z:0"
    mg.signature_def["serving_default"].method_name = "tensorflow/serving/predict"
    return sm.SerializeToString()


@pytest.fixture
def merged(monkeypatch) -> list[int]:
    """The size of every piece handed to protobuf."""
    sizes: list[int] = []
    real = pieces._merge_piece

    def spy(message, piece):
        sizes.append(len(piece))
        real(message, piece)

    monkeypatch.setattr(pieces, "_merge_piece", spy)
    return sizes


def test_a_big_function_parses_in_small_pieces_to_the_same_message(merged):
    data = _big_saved_model()
    whole = proto.SavedModel.FromString(data)
    parsed = parse_in_pieces(proto.SavedModel(), data, PIECE)
    assert parsed == whole
    assert parsed.SerializeToString(deterministic=True) == whole.SerializeToString(
        deterministic=True
    )
    assert len(merged) > len(data) // PIECE  # it was split...
    biggest_node = max(
        n.ByteSize() for n in whole.meta_graphs[0].graph_def.library.function[0].node_def
    )
    assert max(merged) < PIECE + biggest_node + 8  # ...into pieces of about PIECE bytes


def test_node_order_and_every_field_survive_at_any_piece_size():
    data = _big_saved_model(500)
    whole = proto.SavedModel.FromString(data)
    for piece in (64, 333, 4096, len(data)):
        parsed = parse_in_pieces(proto.SavedModel(), data, piece)
        names = [n.name for n in parsed.meta_graphs[0].graph_def.library.function[0].node_def]
        assert names == [
            n.name for n in whole.meta_graphs[0].graph_def.library.function[0].node_def
        ]
        assert parsed == whole


@pytest.mark.parametrize("cut", [1, 7, 1000, 25_001])
def test_truncated_data_raises_protobufs_decode_error(cut):
    data = _big_saved_model()
    with pytest.raises(DecodeError):
        parse_in_pieces(proto.SavedModel(), data[:-cut], PIECE)


def test_tensorflow_exports_parse_to_what_one_call_gives(models):
    for name in ("keras_export", "control_flow", "tf1_multi_tag", "module_multi_sig"):
        data = (models.path(name) / "saved_model.pb").read_bytes()
        whole = proto.SavedModel.FromString(data)
        for piece in (100, 4096):
            assert parse_in_pieces(proto.SavedModel(), data, piece) == whole, (name, piece)


def test_off_the_main_thread_parse_goes_in_pieces_and_on_it_in_one_call(merged, monkeypatch):
    monkeypatch.setattr(pieces, "PIECE", PIECE)
    data = _big_saved_model()
    on_main = pieces.parse(proto.SavedModel(), data)
    assert merged == []  # one MergeFromString, not through the piece merger
    found = []
    worker = threading.Thread(target=lambda: found.append(pieces.parse(proto.SavedModel(), data)))
    worker.start()
    worker.join()
    assert found[0] == on_main
    assert len(merged) > 1
