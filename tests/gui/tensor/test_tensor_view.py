"""TensorView: pure slicing and formatting helpers, then what the widget shows."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QCoreApplication, QPointF, QThreadPool
from PySide6.QtGui import QGuiApplication

from smlens.core import open_model
from smlens.core.analysis.stats import TensorStats, tensor_stats
from smlens.core.analysis.tensor_values import (
    COPY_LIMIT,
    format_bytes_value,
    histogram,
    kernel_grid,
    save_npy,
    slice_2d,
    values_text,
)
from smlens.gui.tensor.view import TensorView


@pytest.fixture
def view(qtbot) -> TensorView:
    widget = TensorView()
    qtbot.addWidget(widget)
    return widget


def _show(qtbot, view: TensorView, array: np.ndarray, title: str = "t") -> None:
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show_array(title, array)


def _table(view: TensorView) -> list[list[str]]:
    model = view.table.array_model
    return [
        [model.index(r, c).data() for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


# --- pure helpers ---------------------------------------------------------------------


def test_slice_2d_fixes_the_other_axes_and_orders_rows_and_columns():
    a = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    np.testing.assert_array_equal(slice_2d(a, 1, 2, [1, 0, 0]), a[1, :, :])
    np.testing.assert_array_equal(slice_2d(a, 2, 1, [1, 0, 0]), a[1, :, :].T)
    np.testing.assert_array_equal(slice_2d(a, 0, 2, [0, 2, 0]), a[:, 2, :])
    assert slice_2d(np.arange(5), 0, None, [0]).shape == (5, 1)
    assert slice_2d(np.array(7.0), 0, None, []).tolist() == [[7.0]]


def test_kernel_grid_tiles_every_output_channel_of_one_input_channel():
    kernel = np.random.default_rng(0).standard_normal((3, 3, 2, 5)).astype(np.float32)
    grid = kernel_grid(kernel, in_channel=1)
    assert grid.shape == (2 * 4 - 1, 3 * 4 - 1)  # 3 across, 2 down, 1-pixel gaps
    np.testing.assert_array_equal(grid[0:3, 4:7], kernel[:, :, 1, 1])
    np.testing.assert_array_equal(grid[4:7, 0:3], kernel[:, :, 1, 3])
    assert np.isnan(grid[3, :]).all() and np.isnan(grid[4:7, 8:]).all()


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("h\u00e9llo \u2603".encode(), "h\u00e9llo \u2603"),
        (b"\x00\xff\x80", "\\x00\\xff\\x80"),
        (b"tab\there\nnl", "tab\\there\\nnl"),
        (b"back\\slash", "back\\\\slash"),
        (b"", ""),
    ],
)
def test_bytes_show_as_utf8_with_unambiguous_escapes(raw, shown):
    assert format_bytes_value(raw) == shown


def test_values_text_truncates_huge_tensors_with_a_notice():
    text, truncated = values_text(np.arange(10, dtype=np.int32))
    assert not truncated and text == "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"
    text, truncated = values_text(np.zeros(COPY_LIMIT + 5))
    assert truncated
    assert text.startswith(f"# first {COPY_LIMIT:,} of {COPY_LIMIT + 5:,} values")


def test_histogram_of_100_mb_float32_counts_every_value():
    """Its speed is benchmarks/bench_open_gui.py's to measure."""
    a = np.random.default_rng(1).standard_normal(25_000_000, dtype=np.float32)
    stats = TensorStats(count=a.size, min=float(a.min()), max=float(a.max()))
    counts, edges = histogram(a, stats)
    assert counts.sum() == a.size and len(edges) == len(counts) + 1


def test_histogram_leaves_out_nan_and_inf_and_bins_small_ints_by_value():
    a = np.array([np.nan, np.inf, 1.0, 2.0, 2.0], dtype=np.float32)
    counts, _ = histogram(a, tensor_stats(a))
    assert counts.sum() == 3
    b = np.array([0, 1, 1, 3], dtype=np.int8)
    counts, edges = histogram(b, tensor_stats(b))
    assert counts.tolist() == [1, 2, 0, 1] and edges[0] == -0.5


def test_save_npy_refuses_the_model_folder(tmp_path):
    model_dir = tmp_path / "model"
    (model_dir / "variables").mkdir(parents=True)
    with pytest.raises(PermissionError):
        save_npy(np.zeros(3), model_dir / "variables" / "x.npy", model_dir)
    assert not (model_dir / "variables" / "x.npy").exists()
    save_npy(np.arange(3), tmp_path / "x.npy", model_dir)
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), np.arange(3))


# --- the widget -----------------------------------------------------------------------------


def test_stats_labels_equal_numpy(qtbot, view):
    a = np.random.default_rng(2).standard_normal((6, 7)).astype(np.float32)
    a[0, 0] = 0.0
    _show(qtbot, view, a)
    labels = view.stats_view.labels
    for name, expected in (
        ("min", a.min()),
        ("max", a.max()),
        ("mean", a.mean()),
        ("std", a.std()),
    ):
        assert float(labels[name].text()) == pytest.approx(float(expected), rel=1e-5), name
    assert labels["zeros"].text() == f"{1 / a.size:.2%}"
    assert labels["count"].text() == "42"
    assert labels["NaN"].text() == "0" and labels["Inf"].text() == "0"


def test_histogram_shown_counts_sum_to_the_element_count(qtbot, view):
    a = np.random.default_rng(3).standard_normal(5000)
    _show(qtbot, view, a)
    _, counts = view.hist_plot.curve.getData()
    assert counts.sum() == a.size
    assert view.tabs.isTabEnabled(0)


def test_value_table_shows_the_chosen_slice(qtbot, view):
    a = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    _show(qtbot, view, a)
    assert _table(view) == [[f"{v:.6g}" for v in row] for row in a[0]]
    view.slice_controls.set_index(0, 1)
    assert _table(view) == [[f"{v:.6g}" for v in row] for row in a[1]]
    view.slice_controls.rows.setCurrentIndex(2)  # the columns axis: rows and columns swap
    assert _table(view) == [[f"{v:.6g}" for v in row] for row in a[1].T]


def test_conv_kernel_is_shown_as_a_kernel_grid(qtbot, view):
    kernel = np.random.default_rng(4).standard_normal((3, 3, 4, 8)).astype(np.float32)
    _show(qtbot, view, kernel)
    picture = view.picture_view
    assert picture.image_item.image is None  # drawn once the Image tab shows, not before
    view.tabs.setCurrentIndex(2)
    assert not picture.kernel_tools.isHidden() and picture.kernel_check.isChecked()
    picture.channel_spin.setValue(2)
    np.testing.assert_array_equal(picture.image_item.image, kernel_grid(kernel, 2))
    picture.kernel_check.setChecked(False)
    assert picture.image_item.image.shape == (4, 8)  # the [0, 0, :, :] slice


def test_string_tensors_are_shown_as_text(qtbot, view, models):
    model = open_model(models.path("ckpt_dtypes"))
    key = "string_vector/.ATTRIBUTES/VARIABLE_VALUE"
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show_tensor("strings", lambda: model.checkpoint.read(key))
    cells = [row[0] for row in _table(view)]
    assert cells[:3] == ["", "h\u00e9llo w\u00f6rld \u2603", "\\x00\\xff\\x80"]
    assert cells[3].endswith("…")  # 300 characters, cut in the cell
    assert not view.tabs.isTabEnabled(0)  # no histogram for text
    assert view.stats_view.labels["count"].text() == "4"
    assert view.stats_view.labels["min"].isHidden()


def test_scalars_are_shown_on_their_own(qtbot, view):
    _show(qtbot, view, np.array(b"a scalar string", dtype=object))
    assert view.content.currentWidget() is view.scalar_label
    assert view.scalar_label.text() == "a scalar string"


def test_a_failing_read_shows_its_message(qtbot, view, models):
    model = open_model(models.path("ckpt_dtypes"))
    key = "iterator/.ATTRIBUTES/ITERATOR_STATE"
    with qtbot.waitSignal(view.failed, timeout=10_000) as blocker:
        view.show_tensor("iterator", lambda: model.checkpoint.read(key))
    assert "DT_VARIANT" in blocker.args[0]
    assert view.content.currentWidget() is view.placeholder
    assert "DT_VARIANT" in view.placeholder.text()
    assert not view.export_button.isEnabled()


def test_a_newer_tensor_wins_over_a_slow_older_one(qtbot, view):
    release = threading.Event()

    def slow():
        release.wait(10)
        return np.zeros(3)

    assert not view.busy_bar.isVisibleTo(view)  # idle: no busy bar
    view.show_tensor("slow", slow)
    assert view.busy and view.busy_bar.isVisibleTo(view)
    _show(qtbot, view, np.ones(4), title="fast")
    release.set()
    QThreadPool.globalInstance().waitForDone(10_000)
    QCoreApplication.sendPostedEvents()  # the stale result's queued signal, to be dropped
    assert view.title == "fast" and view.data.array.tolist() == [1, 1, 1, 1]
    assert not view.busy and not view.busy_bar.isVisibleTo(view)


def test_copy_values_puts_the_values_on_the_clipboard(qtbot, view):
    _show(qtbot, view, np.array([[1, 2], [3, 4]], dtype=np.int64))
    view.copy_values()
    assert QGuiApplication.clipboard().text() == "[[1, 2],\n [3, 4]]"
    _show(qtbot, view, np.zeros(COPY_LIMIT * 2, dtype=np.float32))
    view.copy_values()
    assert "first 100,000 of 200,000" in QGuiApplication.clipboard().text()
    assert "truncated" in view.message.text()


def test_export_refuses_the_model_folder_and_writes_elsewhere(qtbot, view, tmp_path):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    view.set_protected_folder(model_dir)
    _show(qtbot, view, np.arange(6).reshape(2, 3))
    with pytest.raises(PermissionError):
        view.export_npy(model_dir / "out.npy")
    assert list(model_dir.iterdir()) == []
    view.export_npy(tmp_path / "out.npy")
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), np.arange(6).reshape(2, 3))


def test_hovering_the_image_reads_the_value_under_the_pointer(qtbot, view):
    a = np.arange(300 * 500, dtype=np.float32).reshape(300, 500) / 7
    _show(qtbot, view, a)
    view.tabs.setCurrentIndex(2)
    picture = view.picture_view
    assert picture.value_at(3.5, 2.2) == f"row 2, col 3: {a[2, 3]:.6g}"
    assert picture.value_at(499.9, 299.9) == f"row 299, col 499: {a[299, 499]:.6g}"
    assert picture.value_at(500, 0) is None and picture.value_at(-1, 0) is None

    view.show()
    picture.image_plot.autoRange()
    vb = picture.image_plot.getPlotItem().vb
    scene_point = vb.mapViewToScene(QPointF(10.5, 20.5))
    picture.image_plot.scene().sigMouseMoved.emit(scene_point)
    assert picture.readout.text() == f"row 20, col 10: {a[20, 10]:.6g}"
