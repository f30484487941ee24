"""FunctionPanel: library functions, call edges, entry points, navigation and filtering."""

from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import Qt

from smlens.core import open_model
from smlens.core.graph.calls import callees, callers
from smlens.core.graph.functions import entry_points
from smlens.gui.panels.functions import FunctionPanel
from smlens.resources import sample_path

PANEL = FunctionPanel


def _show(panel: FunctionPanel, model, qtbot) -> None:
    """set_model, then wait until the call edges are indexed off the UI thread."""
    with qtbot.waitSignal(panel.rows_ready, timeout=10_000):
        panel.set_model(model)


def _headers(panel: FunctionPanel) -> list[str]:
    model = panel.table_model
    return [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]


def _table(panel: FunctionPanel) -> list[dict[str, str]]:
    proxy, headers = panel.proxy, _headers(panel)
    return [
        {h: proxy.index(r, c).data() for c, h in enumerate(headers)}
        for r in range(proxy.rowCount())
    ]


def _list(widget) -> list[str]:
    return [widget.item(i).text() for i in range(widget.count())]


@pytest.mark.parametrize("name", ["control_flow", "keras_export", "module_multi_sig"])
def test_one_row_per_library_function_with_counts(panel, qtbot, models, name):
    model = open_model(models.path(name))
    _show(panel, model, qtbot)
    graph = model.meta_graphs[0].graph
    rows = {row["Function"]: row for row in _table(panel)}
    assert set(rows) == set(graph.functions)
    assert "Tag-set" not in _headers(panel)
    for fn_name, fn in graph.functions.items():
        assert rows[fn_name]["Nodes"] == f"{len(fn.nodes):,}"
        assert rows[fn_name]["Callers"] == str(len(callers(graph, fn_name)))
        assert rows[fn_name]["Callees"] == str(len(callees(graph, fn_name)))


def test_signatures_and_concrete_functions_name_the_function_they_run(panel, qtbot, models):
    model = open_model(models.path("keras_export"))
    mg = model.meta_graphs[0]
    wrapper = mg.graph.nodes[[n.name for n in mg.graph.nodes].index("StatefulPartitionedCall_1")]
    entries = entry_points(mg)
    assert entries[wrapper.attrs["f"].name] == ["signature serving_default"]
    serve = dict(mg.object_graph.children_of(0))["serve"]  # model.export()'s endpoint
    traced = serve.concrete_functions[0]
    assert entries[traced] == ["serve()"]
    _show(panel, model, qtbot)
    rows = {row["Function"]: row for row in _table(panel)}
    assert rows[wrapper.attrs["f"].name]["Runs for"] == "signature serving_default"
    assert any(row["Runs for"] == "saver: save" for row in rows.values())


def test_selecting_a_function_lists_callers_callees_and_arguments(panel, qtbot, models):
    model = open_model(models.path("control_flow"))
    _show(panel, model, qtbot)
    graph = model.meta_graphs[0].graph
    body = next(name for name in graph.functions if name.startswith("__inference___call__"))
    assert panel.select_function(body)
    assert panel.selected_row().name == body
    assert _list(panel.callees_list) == callees(graph, body)
    assert sorted(n.split("_")[0] for n in _list(panel.callees_list)) == [
        "cond",
        "cond",
        "while",
        "while",
    ]
    assert _list(panel.callers_list) == callers(graph, body)
    assert "n: int32" in panel.signature_label.text()
    assert "x: float32" in panel.signature_label.text()


def test_double_clicking_a_callee_goes_to_it(panel, models, qtbot):
    model = open_model(models.path("control_flow"))
    _show(panel, model, qtbot)
    body = next(n for n in model.meta_graphs[0].functions if n.startswith("__inference___call__"))
    panel.filter_edit.setText("__call__")  # the callee is filtered out: going there clears it
    panel.select_function(body)
    panel.show()
    qtbot.waitExposed(panel)
    item = panel.callees_list.item(0)
    target = item.text()
    viewport, centre = (
        panel.callees_list.viewport(),
        panel.callees_list.visualItemRect(item).center(),
    )
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=centre)  # a double-click's 1st press
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=centre)
    assert panel.selected_row().name == target
    assert panel.filter_edit.text() == ""


def test_the_main_graph_is_listed_as_a_caller_but_not_navigable(panel, qtbot, models):
    model = open_model(models.path("control_flow"))
    _show(panel, model, qtbot)
    wrapper = next(n for n in model.meta_graphs[0].functions if "signature_wrapper" in n)
    panel.select_function(wrapper)
    assert _list(panel.callers_list) == ["(main graph)"]
    assert panel.callers_list.item(0).flags() == Qt.ItemFlag.NoItemFlags


def test_filter_and_numeric_sort(panel, qtbot, models):
    model = open_model(models.path("control_flow"))
    _show(panel, model, qtbot)
    panel.filter_edit.setText("WHILE")
    assert {row["Function"].split("_")[1] for row in _table(panel)} == {"body", "cond"}
    assert panel.count_label.text() == f"2 of {len(model.meta_graphs[0].functions)} functions"
    panel.filter_edit.clear()
    panel.table.sortByColumn(_headers(panel).index("Nodes"), Qt.SortOrder.AscendingOrder)
    nodes = [int(row["Nodes"]) for row in _table(panel)]
    assert nodes == sorted(nodes) and nodes[-1] >= 10  # numeric: "11" would sort before "2"


def test_several_meta_graphs_get_a_tag_set_column(panel, qtbot, models):
    model = open_model(models.path("control_flow"))
    mg = model.meta_graphs[0]
    model.meta_graphs.append(dataclasses.replace(mg, tags=["serve", "gpu"]))
    _show(panel, model, qtbot)
    assert _headers(panel)[:2] == ["Function", "Tag-set"]
    assert panel.proxy.rowCount() == 2 * len(mg.functions)
    name = next(iter(mg.functions))
    assert panel.select_function(name, "serve,gpu")
    assert panel.selected_row().tag_set == "serve,gpu"


def test_models_without_functions_show_an_empty_table(panel, qtbot, models):
    _show(panel, open_model(models.path("tf1_multi_tag")), qtbot)
    assert panel.proxy.rowCount() == 0
    assert panel.count_label.text() == "0 functions"


def test_rows_are_computed_off_the_ui_thread_and_a_newer_model_wins(panel, models, qtbot):
    first = open_model(models.path("control_flow"))
    second = open_model(models.path("keras_export"))
    panel.set_model(first)
    assert "indexing" in panel.count_label.text()
    assert panel.table_model.rowCount() == 0
    with qtbot.waitSignal(panel.rows_ready, timeout=10_000):
        panel.set_model(second)
    assert {row.name for row in panel.rows} == set(second.meta_graphs[0].functions)


def test_selecting_by_name_does_not_wait_for_the_task(panel, models):
    model = open_model(models.path("control_flow"))
    panel.set_model(model)
    name = sorted(model.meta_graphs[0].functions)[0]
    assert panel.select_function(name)
    assert panel.selected_row().name == name


def test_behind_another_tab_the_rows_wait_until_the_panel_comes_into_view(panel, qtbot):
    model = open_model(sample_path())
    panel.set_on_screen(False)  # the window says so when its dock is behind a tab
    panel.set_model(model)
    assert "indexing" in panel.count_label.text()
    assert not panel._runner.busy  # nothing competes with the graph opening meanwhile
    with qtbot.waitSignal(panel.rows_ready, timeout=10_000):
        panel.set_on_screen(True)
    assert {row.name for row in panel.rows} == set(model.meta_graphs[0].functions)
