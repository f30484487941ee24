"""AssetPanel: asset files with sizes, text and hex previews, and a model folder left as is."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from smlens.core import open_model
from smlens.core.analysis.assets import count_lines, hex_dump, is_binary, preview_file
from smlens.core.errors import SmlensError
from smlens.gui.panels.assets import AssetPanel

PANEL = AssetPanel


@pytest.fixture
def lookup_copy(models, tmp_path) -> Path:
    """The lookup model plus a large vocabulary, files of 9, 10 and 100 bytes, and a binary
    file under assets.extra/ (blob.bin), also written as a corrupt warmup file."""
    folder = tmp_path / "lookup"
    shutil.copytree(models.path("lookup"), folder)
    assets = folder / "assets"
    (assets / "big.txt").write_text("".join(f"token_{i}\n" for i in range(5000)))
    for size in (9, 10, 100):
        (assets / f"size_{size}.txt").write_text("x" * size)
    (folder / "assets.extra").mkdir()
    (folder / "assets.extra" / "blob.bin").write_bytes(bytes(range(256)) * 4)
    (folder / "assets.extra" / "tf_serving_warmup_requests").write_bytes(bytes(range(256)) * 4)
    return folder


def _table(panel: AssetPanel) -> list[list[str]]:
    proxy = panel.proxy
    return [[proxy.index(r, c).data() for c in range(4)] for r in range(proxy.rowCount())]


def _select(panel: AssetPanel, qtbot, name: str) -> None:
    row = [r[0] for r in _table(panel)].index(name)
    with qtbot.waitSignal(panel.preview_loaded, timeout=10_000):
        panel.table.selectRow(row)


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
    }


def test_vocabulary_is_listed_and_previewed_with_ids(panel, models, qtbot):
    with qtbot.waitSignal(panel.preview_loaded, timeout=10_000):  # the first file is selected
        panel.set_model(open_model(models.path("lookup")))
    assert _table(panel) == [
        ["vocab.txt", "25 B", "assets", "asset_path_initializer:0, table._initializer._filename"]
    ]
    assert panel.preview_edit.toPlainText() == "0  apple\n1  banana\n2  cherry\n3  date"
    assert panel.info_label.text() == "assets/vocab.txt · 4 lines · 25 B"


def test_sizes_sort_numerically(panel, lookup_copy):
    panel.set_model(open_model(lookup_copy))
    panel.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
    names = [row[0] for row in _table(panel)]
    assert names.index("size_9.txt") < names.index("size_10.txt") < names.index("size_100.txt")
    assert panel.proxy.index(0, 1).data(Qt.ItemDataRole.TextAlignmentRole) == int(
        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    )


def test_large_text_shows_its_first_lines_and_the_full_line_count(panel, lookup_copy, qtbot):
    panel.set_model(open_model(lookup_copy))
    _select(panel, qtbot, "big.txt")
    lines = panel.preview_edit.toPlainText().splitlines()
    assert len(lines) == 500 and lines[0] == "  0  token_0" and lines[-1] == "499  token_499"
    assert "5,000 lines, first 500 shown" in panel.info_label.text()


def test_binary_extra_file_gets_a_hex_preview(panel, lookup_copy, qtbot):
    panel.set_model(open_model(lookup_copy))
    row = next(r for r in _table(panel) if r[0] == "blob.bin")
    assert row[1:3] == ["1.0 KiB", "assets.extra"]
    _select(panel, qtbot, "blob.bin")
    first = panel.preview_edit.toPlainText().splitlines()[0]
    assert first == "00000000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f  |................|"
    assert panel.preview.binary and "binary" in panel.info_label.text()


def test_a_warmup_file_lists_its_records_with_signature_keys_dtypes_and_shapes(
    panel, models, qtbot
):
    with qtbot.waitSignal(panel.preview_loaded, timeout=10_000):  # first by name: selected
        panel.set_model(open_model(models.path("warmup")))
    assert panel.selected_path() == "assets.extra/tf_serving_warmup_requests"
    lines = panel.preview_edit.toPlainText().splitlines()
    assert lines[0].startswith("Warmup file assets.extra/tf_serving_warmup_requests: 5 records")
    assert lines[1].split() == ["0", "predict", "predict", "x", "float32", "(2,", "3)"]
    assert lines[2].split() == ["1", "classify", "classify", "2", "tf.Examples"]
    assert "every record fits its signature" in panel.info_label.text()


def test_a_corrupt_warmup_file_says_where_it_breaks(panel, lookup_copy, qtbot):
    panel.set_model(open_model(lookup_copy))
    _select(panel, qtbot, "tf_serving_warmup_requests")
    assert "corrupted record 0 (byte 0)" in panel.preview_edit.toPlainText()
    assert "TF Serving would fail to load it" in panel.info_label.text()


def test_previewing_never_writes_into_the_model_folder(panel, lookup_copy, qtbot):
    before = _snapshot(lookup_copy)
    panel.set_model(open_model(lookup_copy))
    for name in ("big.txt", "tf_serving_warmup_requests", "vocab.txt"):
        _select(panel, qtbot, name)
    assert _snapshot(lookup_copy) == before


def test_models_without_assets_show_a_placeholder(panel, models):
    panel.set_model(open_model(models.path("keras_export")))
    assert panel.stack.showing_placeholder
    assert panel.proxy.rowCount() == 0


def test_pure_helpers(tmp_path):
    assert hex_dump(b"AB\x00") == "00000000  41 42 00" + " " * 39 + "  |AB.|"
    assert is_binary(b"a\x00b") and is_binary(b"\xff\xfeabcdef")
    assert not is_binary("h\u00e9llo".encode())
    assert not is_binary("\u2603".encode()[:2])  # a character cut at the end of the head
    path = tmp_path / "f.txt"
    path.write_bytes(b"a\nb\nc")  # no final newline: still three lines
    assert count_lines(path) == 3
    preview = preview_file(path, 2, progress=lambda *a: None, cancelled=lambda: False)
    assert (preview.text, preview.line_count, preview.shown_lines) == ("0  a\n1  b", 3, 2)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert count_lines(empty) == 0


def test_tf1_assets_name_the_tensor_fed_with_their_path(panel, models):
    # TF1 builders list assets in the asset_filepaths collection, not asset_file_def
    panel.set_model(open_model(models.path("tf1_multi_tag")))
    rows = {row[0]: row for row in _table(panel)}
    assert rows["vocab.txt"][3] == "vocab_path:0"


def test_asset_outside_the_folder_is_previewed_only_when_asked(panel, lookup_copy, qtbot):
    secret = lookup_copy.parent / "secret.txt"
    secret.write_text("root:x:0:0\n")
    (lookup_copy / "assets" / "aaa_passwd.txt").symlink_to(secret)
    model = open_model(lookup_copy)
    assert any(
        p.path.endswith("aaa_passwd.txt") and "outside the model folder" in p.message
        for p in model.problems
    )
    panel.set_model(model)
    panel.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    panel.table.selectRow([r[0] for r in _table(panel)].index("aaa_passwd.txt"))
    assert panel.info_label.text() == (
        f"assets/aaa_passwd.txt is a symlink to {secret}, outside the model folder: not previewed."
    )
    assert panel.preview_edit.toPlainText() == "" and panel.preview is None
    assert panel.preview_anyway.isVisibleTo(panel)
    panel.grab().save(str(lookup_copy.parent / "assets_outside.png"))
    with qtbot.waitSignal(panel.preview_loaded, timeout=10_000):
        panel.preview_anyway.click()
    assert panel.preview_edit.toPlainText() == "0  root:x:0:0"
    assert not panel.preview_anyway.isVisibleTo(panel)


def test_fifo_in_assets_is_not_listed_nor_opened(panel, lookup_copy, qtbot):
    os.mkfifo(lookup_copy / "assets" / "pipe.txt")
    model = open_model(lookup_copy)
    assert "assets/pipe.txt" not in {a.path for a in model.assets}
    (problem,) = [p for p in model.problems if p.path.endswith("pipe.txt")]
    assert problem.message == "is a FIFO (named pipe): not listed"


def test_preview_refuses_special_files_and_outside_paths(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(SmlensError, match="is a FIFO"):
        preview_file(tmp_path / "pipe", progress=lambda *a: None, cancelled=lambda: False)
    inner = tmp_path / "model"
    inner.mkdir()
    (inner / "link").symlink_to("/etc/hostname")
    with pytest.raises(SmlensError, match="outside the model folder: not previewed"):
        preview_file(inner / "link", root=inner, progress=lambda *a: None, cancelled=lambda: False)
