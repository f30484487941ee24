"""The ``smlens`` command: ``show | diff | run | freeze | wrap | scan | tensor |
check-request`` over the
core, or the window for ``smlens [PATH [PATH]]``.

Bad input prints one line naming the file and what is wrong, and exits 2; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from smlens.core.errors import SmlensError

COMMANDS: dict[str, Callable[[list[str]], int]] = {}


def command(name: str):
    def register(fn):
        COMMANDS[name] = fn
        return fn

    return register


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors with exit code 2 (its default) and no traceback."""


@command("show")
def _show(argv: list[str]) -> int:
    """tag-sets, signatures and ops, as saved_model_cli show prints them (or --json)"""
    parser = _Parser(prog="smlens show", description="Show what a SavedModel holds.")
    parser.add_argument("--dir", required=True, help="the SavedModel folder (or any model file)")
    parser.add_argument("--all", action="store_true", help="everything, as saved_model_cli")
    parser.add_argument("--tag_set", help="comma-separated tags of one MetaGraphDef")
    parser.add_argument("--signature_def", help="a SignatureDef key of that tag-set")
    parser.add_argument("--list_ops", action="store_true", help="the ops of the tag-set")
    parser.add_argument("--json", action="store_true", help="the whole model summary as JSON")
    parser.add_argument(
        "--request", metavar="KEY", help="the TF Serving request a client sends signature KEY"
    )
    parser.add_argument(
        "--format",
        choices=("row", "columnar", "curl", "grpc"),
        default="row",
        help="with --request: REST body in row or columnar form, a curl line, or gRPC Python",
    )
    args = parser.parse_args(argv)
    from smlens.core.formats.reader import open_model

    model = open_model(args.dir)
    for problem in model.problems:  # the text on stdout stays saved_model_cli's
        print(f"smlens: warning: {_one_line(str(problem))}", file=sys.stderr)
    if args.request is not None:
        from smlens.cli.request import print_request

        return print_request(model, args.request, args.tag_set, args.format)
    if args.json:
        from smlens.core.analysis.summary import model_summary

        json.dump(model_summary(model), sys.stdout, indent=2)
        print()
        return 0
    from smlens.cli.show import render_show
    from smlens.cli.show_io import render_graph_io

    flags = {
        "all": args.all,
        "tag_set": args.tag_set,
        "signature_def": args.signature_def,
        "list_ops": args.list_ops,
    }
    sys.stdout.write(render_show(model, **flags))
    sys.stdout.write(render_graph_io(model, **flags))  # after saved_model_cli's text
    return 0


@command("tensor")
def _tensor(argv: list[str]) -> int:
    """one variable's stats and values, or save it as .npy"""
    parser = _Parser(prog="smlens tensor", description="Print or save one variable's values.")
    parser.add_argument("--dir", required=True, help="the SavedModel folder or checkpoint")
    parser.add_argument("name", nargs="?", help="resolved name, checkpoint key or object path")
    parser.add_argument("--out", help="save the values to this .npy file instead")
    parser.add_argument("--verify", action="store_true", help="check the stored crc32c first")
    parser.add_argument("--all", action="store_true", help="every variable to --out FILE.npz")
    args = parser.parse_args(argv)
    from smlens.cli.tensor import export_all, print_tensor

    if args.all or not args.name:
        return export_all(args.dir, args.out) if args.all else parser.error("give a NAME or --all")
    return print_tensor(args.dir, args.name, out=args.out, verify=args.verify)


@command("diff")
def _diff(argv: list[str]) -> int:
    """what changed between two exports and whether it breaks clients (exit 1 if so)"""
    from smlens.cli.diff import run_diff

    return run_diff(argv)


@command("run")
def _run(argv: list[str]) -> int:
    """run a signature in a TensorFlow worker, as saved_model_cli run, with device and timings"""
    from smlens.cli.run import run_main

    return run_main(argv)


@command("freeze")
def _freeze(argv: list[str]) -> int:
    """a frozen GraphDef from a .meta + checkpoint or a SavedModel signature, in a worker"""
    from smlens.cli.convert import freeze_main

    return freeze_main(argv)


@command("wrap")
def _wrap(argv: list[str]) -> int:
    """a SavedModel (serve, serving_default) from a frozen GraphDef, in a worker"""
    from smlens.cli.convert import wrap_main

    return wrap_main(argv)


@command("scan")
def _scan(argv: list[str]) -> int:
    """file and system ops (saved_model_cli scan), custom ops, the TensorFlow release it needs"""
    parser = _Parser(
        prog="smlens scan",
        description="Find file and system ops in a model, and the TensorFlow release it needs.",
    )
    parser.add_argument("--dir", required=True, help="the SavedModel folder")
    parser.add_argument("--tag_set", help="comma-separated tags of one MetaGraphDef")
    parser.add_argument("--op_denylist", help="comma-separated ops (default: saved_model_cli's)")
    parser.add_argument(
        "--target-tf",
        metavar="RELEASE",
        help="list what this TensorFlow release (2.12) lacks of the model; exit 1 if anything",
    )
    tflite = parser.add_argument_group("TFLite readiness (a dry run of TensorFlow's converter)")
    tflite.add_argument(
        "--tflite",
        action="store_true",
        help="convert each signature: ops builtin, Flex or unsupported; exit 1 if unsupported",
    )
    tflite.add_argument("--signature_def", help="with --tflite: only this signature")
    tflite.add_argument("--tflite-out", metavar="FILE", help="with --tflite: write the .tflite")
    tflite.add_argument("--json", action="store_true", help="with --tflite: print JSON")
    tflite.add_argument(
        "--load", action="append", default=[], help="with --tflite: a custom-op package or .so"
    )
    tflite.add_argument(
        "--allow-risky-ops", action="store_true", help="with --tflite: load despite file ops"
    )
    args = parser.parse_args(argv)
    if args.tflite:
        from smlens.cli.tflite import print_tflite

        return print_tflite(
            args.dir,
            args.tag_set,
            args.signature_def,
            output=args.tflite_out,
            as_json=args.json,
            loads=args.load,
            allow_risky_ops=args.allow_risky_ops,
        )
    if args.tflite_out or args.json or args.signature_def:
        parser.error("--signature_def, --tflite-out and --json go with --tflite")
    from smlens.cli.scan import print_scan

    return print_scan(
        args.dir, tag_set=args.tag_set, op_denylist=args.op_denylist, target_tf=args.target_tf
    )


@command("check-request")
def _check_request(argv: list[str]) -> int:
    """hold a TF Serving REST body against a signature (exit 1 if it does not fit)"""
    parser = _Parser(
        prog="smlens check-request",
        description="Check a TF Serving REST predict body (row or columnar) against a signature.",
    )
    parser.add_argument("--dir", required=True, help="the SavedModel folder")
    parser.add_argument("--signature_def", help="the signature the body must call")
    parser.add_argument("--tag_set", help="comma-separated tags (default: the serve meta graph)")
    parser.add_argument("body", help="the JSON body, as curl -d @body.json posts it")
    args = parser.parse_args(argv)
    from smlens.cli.request import print_check
    from smlens.core.formats.reader import open_model

    model = open_model(args.dir)
    return print_check(model, args.body, args.signature_def, args.tag_set)


def _gui(argv: list[str]) -> int:
    parser = _Parser(prog="smlens", description="SavedModel Lens: open a model in the window.")
    parser.add_argument("paths", nargs="*", help="a model to open, or two to compare")
    parser.add_argument("--screenshot", metavar="OUT.png", help="render the window and exit")
    parser.add_argument("--view", help="panel to show in the screenshot, e.g. graph:NAME")
    args = parser.parse_args(argv)
    try:
        from smlens.gui.window.app import run_app
    except ImportError as e:
        raise SmlensError("smlens.gui", f"the window is not available: {e}") from None
    return run_app(args.paths, screenshot=args.screenshot, view=args.view)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print("usage: smlens [PATH [PATH]] | smlens {" + ",".join(COMMANDS) + "} ...")
        print("\ncommands:")
        for name, fn in COMMANDS.items():
            print(f"  {name:14} {(fn.__doc__ or '').strip()}")
        print("\nWith no command, opens PATH (or the bundled sample) in the window.")
        return 0
    handler = COMMANDS.get(argv[0]) if argv else None
    try:
        return handler(argv[1:]) if handler else _gui(argv)
    except SmlensError as e:
        print(f"smlens: error: {_one_line(str(e))}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
    except MemoryError:
        print(f"smlens: error: {_named(argv)}: out of memory", file=sys.stderr)
        return 2
    except Exception as e:  # a bug must not read as diff's verdict (exit 1)
        what = _one_line(f"{type(e).__name__}: {e}")
        print(f"smlens: error: {_named(argv)}: unexpected {what} (a bug)", file=sys.stderr)
        return 2


def _one_line(text: str, limit: int = 1000) -> str:
    """Error text as one line of bounded length: a hostile file name may hold anything."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


def _named(argv: list[str]) -> str:
    """The model paths among the arguments, to name in an error that does not."""
    from pathlib import Path

    found = []
    for arg in argv[1:] if argv and argv[0] in COMMANDS else argv:
        if arg.startswith("-"):
            continue
        try:
            if Path(arg).exists():
                found.append(arg)
        except (OSError, ValueError):
            continue
    return ", ".join(found) or " ".join(argv[:1]) or "smlens"


if __name__ == "__main__":
    sys.exit(main())
