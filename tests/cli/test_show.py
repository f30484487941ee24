"""render_show against TensorFlow's own ``saved_model_cli show``, flag set by flag set."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from smlens.cli.show import loaded_names, render_show
from smlens.core.analysis.ops import ops_used
from smlens.core.errors import SmlensError
from smlens.core.formats.reader import open_model
from smlens.core.model import (
    ConcreteFunction,
    Function,
    Graph,
    MetaGraph,
    Model,
    Node,
    ObjectGraph,
    ObjectNode,
    Shape,
    TensorSpec,
)
from tests.smcli import saved_model_cli_show, saved_model_cli_subprocess

SAVED_MODELS = ["tf1_multi_tag", "module_multi_sig", "keras_export", "control_flow", "lookup"]

_LOG_LINE = re.compile(
    r"^((WARNING|INFO|ERROR):tensorflow:|[IWEF]\d{4} \d\d:\d\d:\d\d|WARNING: All log messages)"
)
_OPS_LINE = re.compile(r"^(.* contains the following ops: )\{(.*)\}$")
_DICT_VALUE = re.compile(r"^(\s*Value: \{)(.*), \x08\x08\}$")
_NAMED_ARG = "        Named Argument #"
_OPTION = "    Option #"


def _split_top_level(text: str) -> list[str]:
    """Split at commas outside brackets and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    return [*parts, text[start:].strip()]


def _sort_line(line: str) -> str:
    """Sort the ops set and dict values, which saved_model_cli prints in hash order."""
    if match := _OPS_LINE.match(line):
        return match[1] + "{" + ", ".join(sorted(_split_top_level(match[2]))) + "}"
    if match := _DICT_VALUE.match(line):
        return match[1] + ", ".join(sorted(_split_top_level(match[2]))) + ", \b\b}"
    return line


def _sort_named_arguments(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith(_NAMED_ARG):
            out.append(lines[i])
            i += 1
            continue
        keys = []
        while i < len(lines) and lines[i].startswith(_NAMED_ARG):
            keys.append(lines[i + 1])
            i += 2
        for n, key in enumerate(sorted(keys), 1):
            out += [f"{_NAMED_ARG}{n}", key]
    return out


def _sort_options(lines: list[str]) -> list[str]:
    """Order a function's options by content: saved_model_cli orders them by load-time names."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not lines[i].startswith(_OPTION):
            out.append(lines[i])
            i += 1
            continue
        options = []
        while i < len(lines) and lines[i].startswith(_OPTION):
            j = i + 1
            while j < len(lines) and lines[j].startswith("      "):
                j += 1
            options.append(lines[i + 1 : j])
            i = j
        for n, body in enumerate(sorted(options), 1):
            out += [f"{_OPTION}{n}", *body]
    return out


def normalise(text: str, options_sorted: bool = True) -> str:
    """The text with what saved_model_cli prints in hash order sorted; with
    ``options_sorted`` also a function's options (the in-process loader names them with a
    counter other code has advanced, so only a fresh process gives the command's order)."""
    lines = [_sort_line(line) for line in text.split("\n") if not _LOG_LINE.match(line)]
    lines = _sort_named_arguments(lines)
    return "\n".join(_sort_options(lines) if options_sorted else lines)


def _flag_sets(model: Model) -> list[dict]:
    sets: list[dict] = [{}, {"all": True}, {"list_ops": True}]
    for meta_graph in model.meta_graphs:
        tags = meta_graph.tag_set
        sets += [{"tag_set": tags}, {"tag_set": tags, "list_ops": True}]
        sets += [{"tag_set": tags, "signature_def": key} for key in meta_graph.signatures]
    return sets


def _argv(path: Path, flags: dict) -> list[str]:
    argv = ["--dir", str(path)]
    for name, value in flags.items():
        argv += [f"--{name}"] if value is True else [f"--{name}", value]
    return argv


@pytest.mark.parametrize("name", SAVED_MODELS)
def test_show_matches_saved_model_cli(models, subtests, name):
    path = models.path(name)
    model = open_model(path)
    flag_sets = _flag_sets(model)
    assert len(flag_sets) >= 5
    for flags in flag_sets:
        with subtests.test(flags=flags):
            expected = normalise(saved_model_cli_show(_argv(path, flags)))
            assert normalise(render_show(model, **flags)) == expected


@pytest.fixture(scope="module")
def multi_sig_all(models) -> tuple[Path, str]:
    path = models.path("module_multi_sig")
    return path, saved_model_cli_subprocess(["show", "--dir", str(path), "--all"])


def test_in_process_helper_matches_the_real_command(multi_sig_all):
    path, real = multi_sig_all
    assert "Concrete Functions:" in real
    assert normalise(saved_model_cli_show(["--dir", str(path), "--all"])) == normalise(real)


def test_render_matches_the_real_command(multi_sig_all):
    path, real = multi_sig_all
    assert normalise(render_show(open_model(path), all=True)) == normalise(real)


def test_show_prints_the_ops_set_sorted(models):
    text = render_show(open_model(models.path("keras_export")), tag_set="serve", list_ops=True)
    listed = re.search(r"ops: \{(.*)\}", text)[1].split(", ")
    assert listed == sorted(listed)
    assert "'MatMul'" in listed


def test_ops_skip_while_bodies_and_if_branches(models):
    graph = open_model(models.path("control_flow")).meta_graphs[0].graph
    ops = ops_used(graph)
    assert {"While", "StatelessIf", "StatefulPartitionedCall"} <= ops
    body_ops = {n.op for f in graph.functions.values() if "body" in f.name for n in f.nodes}
    assert "AddV2" in body_ops
    assert "AddV2" not in ops
    assert not ops & set(graph.functions)


@pytest.mark.parametrize("name", ["module_multi_sig", "traced_three_ways"])
def test_options_come_in_the_order_the_real_command_prints_them(models, name):
    """saved_model_cli sorts a function's options by the names a fresh process's loader
    gives them ("__inference_combine_149" before "__inference_combine_46")."""
    path = models.path(name)
    real = saved_model_cli_subprocess(["show", "--dir", str(path), "--all"])
    ours = render_show(open_model(path), all=True)
    assert "Option #2" in ours
    assert normalise(ours, options_sorted=False) == normalise(real, options_sorted=False)


_FRESH_LOADER_NAMES = """
import json, sys
import tensorflow as tf
from tensorflow.python.eager import context
tf.saved_model.load(sys.argv[1])
print(json.dumps(sorted(context.context().list_function_names())))
"""


@pytest.mark.parametrize(
    "name", ["module_multi_sig", "traced_three_ways", "lookup", "control_flow"]
)
def test_loaded_names_are_the_names_a_fresh_process_loader_gives(models, name):
    """Every emulated name, uid included, is one tf.saved_model.load registers in a fresh
    process: the option order holds only if the counter is exact, not just close."""
    path = models.path(name)
    fresh = subprocess.run(
        [sys.executable, "-c", _FRESH_LOADER_NAMES, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    registered = set(json.loads(fresh.stdout.strip().splitlines()[-1]))
    emulated = loaded_names(open_model(path).meta_graphs[0].graph)
    assert len(emulated) >= 4
    assert sorted(set(emulated.values()) - registered) == []


def test_unknown_tag_set_names_the_choices(models):
    model = open_model(models.path("tf1_multi_tag"))
    with pytest.raises(SmlensError) as info:
        render_show(model, tag_set="serve,tpu", signature_def="predict")
    assert str(model.path) in str(info.value)
    assert "'serve,gpu'" in info.value.message
    assert "'train'" in info.value.message


def test_unknown_signature_names_the_choices(models):
    model = open_model(models.path("tf1_multi_tag"))
    with pytest.raises(SmlensError) as info:
        render_show(model, tag_set="gpu,serve", signature_def="classify")
    assert str(model.path) in str(info.value)
    assert "'predict'" in info.value.message


def test_blank_tag_set_is_refused_like_saved_model_cli(models):
    model = open_model(models.path("tf1_multi_tag"))
    with pytest.raises(SmlensError, match="non-empty"):
        render_show(model, tag_set=" , ", list_ops=True)


def _bare_function_model(signature, keywords=(), meta_graphs=1, library=None) -> Model:
    function = ConcreteFunction("__inference_f_1", (), signature, None, keywords)
    root = ObjectNode(0, "user_object", [("f", 1)])
    bare = ObjectNode(1, "bare_concrete_function", [], "f", concrete_functions=(function.name,))
    objects = ObjectGraph([root, bare], {function.name: function})
    graph = Graph(nodes=[], functions=library or {})
    meta = [MetaGraph(["serve"], {}, graph, object_graph=objects)]
    meta += [MetaGraph([f"extra{i}"], {}, graph) for i in range(1, meta_graphs)]
    return Model(Path("/models/hand_made"), "saved_model", meta)


def _concrete_section(model: Model) -> str:
    return render_show(model, all=True).split("Concrete Functions:")[1]


def test_bare_function_without_signature_lists_argument_keywords():
    section = _concrete_section(_bare_function_model(None, ("a", "b")))
    assert section == (
        "\n  Function Name: 'f'\n    Option #1\n      Callable with:\n"
        "        Argument #1\n          a\n        Argument #2\n          b\n"
    )


def test_nested_and_empty_arguments_print_like_saved_model_cli():
    spec = TensorSpec(Shape((-1,)), "int32", "ids")
    section = _concrete_section(_bare_function_model((((), [spec, None], "s"), {"z": 1, "a": 2})))
    assert "          DType: tuple\n          Value: [\b\b]\n" in section
    assert (
        "          DType: list\n          Value: "
        "[TensorSpec(shape=(None,), dtype=tf.int32, name='ids'), None, \b\b]\n"
    ) in section
    assert "        Argument #3\n          s\n" in section
    assert section.endswith(
        "        Named Argument #1\n          a\n        Named Argument #2\n          z\n"
    )


def test_concrete_functions_not_listed_with_several_meta_graphs():
    section = _concrete_section(_bare_function_model(None, ("a",), meta_graphs=2))
    assert section == " N/A (could not be listed due to unknown reasons)\n"


def test_concrete_functions_listed_despite_custom_ops():
    """saved_model_cli prints N/A here; the object graph needs no op kernels."""
    node = Node("custom", "MyCustomOp", [])
    library = {"__inference_f_1": Function("__inference_f_1", [], [], [node], {})}
    section = _concrete_section(_bare_function_model(None, ("a",), library=library))
    assert "N/A" not in section
    assert "Function Name:" in section and "Argument #1" in section


def test_damaged_input_signature_lists_functions_as_na(models, tmp_path, capsys):
    """Found by the fuzzer (seed 0, case 489): a canonicalized_input_signature that is a
    float, not (args, kwargs), crashed --all with a TypeError."""
    import shutil

    from smlens.cli.main import main
    from smlens.core.formats import proto

    folder = tmp_path / "damaged"
    shutil.copytree(models.path("keras_export"), folder)
    saved = proto.SavedModel.FromString((folder / "saved_model.pb").read_bytes())
    functions = saved.meta_graphs[0].object_graph_def.concrete_functions
    name = next(n for n, f in functions.items() if f.HasField("canonicalized_input_signature"))
    functions[name].canonicalized_input_signature.Clear()
    functions[name].canonicalized_input_signature.float64_value = 1e300
    (folder / "saved_model.pb").write_bytes(saved.SerializeToString())

    assert main(["show", "--dir", str(folder), "--all"]) == 0
    out = capsys.readouterr().out
    assert out.endswith("Concrete Functions: N/A (could not be listed due to unknown reasons)\n")


def test_show_prints_the_models_problems_on_stderr_only(models, tmp_path, capsys):
    import shutil

    from smlens.cli.main import main

    folder = tmp_path / "copy"
    shutil.copytree(models.path("keras_export"), folder)
    (folder / "fingerprint.pb").write_bytes(b"\xff\xff\xff")
    assert main(["show", "--dir", str(folder)]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith(f"smlens: warning: {folder / 'fingerprint.pb'}: cannot parse")
    assert "smlens:" not in captured.out
