"""Text format read through wire bytes gives what text_format.Parse gives, or falls back to
it: TensorFlow's own SavedModels written as text, and the corners of the syntax."""

from __future__ import annotations

import pytest
from google.protobuf import text_format

from smlens.core.formats import proto
from smlens.core.formats.text_proto import Unsupported, text_to_wire

SAVED_MODELS = ["tf1_multi_tag", "module_multi_sig", "keras_export", "control_flow", "lookup"]


def _slow(text: str, name: str = "SavedModel"):
    """What text_format.Parse reads, the reference."""
    message = getattr(proto, name)()
    text_format.Parse(text, message, descriptor_pool=proto._pool())
    return message


def _fast(text: str, name: str = "SavedModel"):
    message = getattr(proto, name)()
    message.ParseFromString(text_to_wire(text, message.DESCRIPTOR, proto._pool()))
    return message


def _same(a, b) -> bool:
    return a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True)


@pytest.mark.parametrize("name", SAVED_MODELS)
@pytest.mark.parametrize("style", ["default", "one_line", "utf8", "index_order", "short", "pointy"])
def test_tensorflows_saved_models_as_text_read_back_whole(models, name, style):
    saved = proto.SavedModel.FromString((models.path(name) / "saved_model.pb").read_bytes())
    options = {
        "default": {},
        "one_line": {"as_one_line": True},
        "utf8": {"as_utf8": True},
        "index_order": {"use_index_order": True},
        "short": {"use_short_repeated_primitives": True},
        "pointy": {"pointy_brackets": True},
    }[style]
    text = text_format.MessageToString(saved, descriptor_pool=proto._pool(), **options)
    assert _same(_fast(text), saved)
    assert _same(_fast(text), _slow(text))


@pytest.mark.parametrize(
    "text",
    [
        "# a comment\nsaved_model_schema_version: 1  # another\n",
        "meta_graphs < meta_info_def < tags: 'serve' tags: \"gpu\" > >",
        "meta_graphs { meta_info_def { tags: ['serve', 'gpu'] } }",
        "meta_graphs: { graph_def { node { name: 'a' 'b' op: \"C\\x41\\101\\n\\'\" } } }",
        "meta_graphs { graph_def { node { attr { key: 'T' value { type: DT_HALF } } } } }",
        "meta_graphs { graph_def { node { attr { key: 'T' value { type: 19 } } } } }",
        "meta_graphs { graph_def { node { attr { key: 'v' value { list { "
        "f: [1.5, -inf, nan, 2e-3f, inf, -0.0] i: [0x1f, -7] b: [t, false, True, 0] } } } } } }",
        "meta_graphs { graph_def { versions { producer: 27, min_consumer: 12; } } }",
        "meta_graphs { collection_def { key: 'a' value { any_list { value { "
        "[type.googleapis.com/tensorflow.AssetFileDef] { filename: 'v.txt' } } } } } }",
        "meta_graphs { graph_def { node { name: 'caf\u00e9' } } }",
        "",
    ],
    ids=[
        "comments", "angle-brackets", "list-of-strings", "escapes", "enum-name", "enum-number",
        "numbers", "separators", "any", "unicode", "empty",
    ],
)  # fmt: skip
def test_the_corners_of_the_syntax_read_as_text_format_reads_them(text):
    assert _same(_fast(text), _slow(text))


@pytest.mark.parametrize(
    "text",
    [
        "meta_graphs { no_such_field: 1 }",
        "saved_model_schema_version: 1 saved_model_schema_version: 2",
        "meta_graphs { graph_def { versions { producer: 99999999999 } } }",
        "meta_graphs { meta_info_def { tags: serve } }",
        "meta_graphs { graph_def { node { attr { key: 'x' value { s: 'a' i: 1 } } } } }",
        "meta_graphs { graph_def { node { name: 'a' }",
        "meta_graphs { graph_def { node { attr { key: 'T' value { type: DT_NOPE } } } } }",
    ],
    ids=["unknown-field", "repeated-singular", "out-of-range", "bare-word", "two-of-a-oneof",
         "unclosed", "unknown-enum"],
)  # fmt: skip
def test_what_text_format_refuses_is_left_to_it(text):
    with pytest.raises(Unsupported):
        _fast(text)
    with pytest.raises(text_format.ParseError) as theirs:
        _slow(text)
    message = proto.SavedModel()
    with pytest.raises(text_format.ParseError) as ours:
        proto.parse_text(text, message)
    assert str(ours.value) == str(theirs.value)


def test_a_graph_def_as_text_reads_whole(models):
    graph = proto.GraphDef()
    text_format.Parse((models.path("frozen_graph") / "frozen.pbtxt").read_text(), graph)
    text = text_format.MessageToString(graph)
    assert _same(_fast(text, "GraphDef"), graph)
