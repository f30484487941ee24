"""The window's panels are real imports; one whose constructor fails is left out alone."""

from __future__ import annotations

from smlens.gui.base.panel import Panel
from smlens.gui.panels.ops import OpPanel
from smlens.gui.window.docks import PANELS, PanelSpec, load_panels


class BrokenPanel(Panel):
    title = "Broken"

    def __init__(self):
        raise RuntimeError("cannot build")


def test_a_panel_that_fails_to_build_is_left_out_and_the_others_build(qtbot, caplog):
    panels = load_panels((PanelSpec("broken", BrokenPanel), PanelSpec("ops", OpPanel)))
    assert list(panels) == ["ops"]
    assert isinstance(panels["ops"], OpPanel)
    qtbot.addWidget(panels["ops"])
    assert "the BrokenPanel panel is not available: cannot build" in caplog.text


def test_every_registered_panel_is_a_panel_class_with_a_unique_key():
    assert all(issubclass(spec.panel, Panel) for spec in PANELS)
    assert len({spec.key for spec in PANELS}) == len(PANELS)
