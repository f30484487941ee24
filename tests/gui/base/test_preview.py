"""Every panel opens on its own through gui/base/preview.py, as ``python -m`` would open it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from smlens.gui.base.preview import preview
from smlens.gui.panels.assets import AssetPanel
from smlens.gui.panels.functions import FunctionPanel
from smlens.gui.panels.objects import ObjectPanel
from smlens.gui.panels.ops import OpPanel
from smlens.gui.panels.signatures import SignaturePanel
from smlens.gui.panels.variables import VariablePanel
from smlens.gui.window.docks import PANELS as DOCKED

PANELS = [SignaturePanel, ObjectPanel, VariablePanel, FunctionPanel, AssetPanel, OpPanel]


@pytest.mark.parametrize("name", ["keras_export", "tf1_multi_tag", "ckpt_dtypes"])
@pytest.mark.parametrize("panel_cls", PANELS, ids=lambda cls: cls.__name__)
def test_preview_opens_the_panel_on_a_model(qtbot, models, panel_cls, name):
    path = models.path(name)
    panel = preview(panel_cls, path, run=False)
    qtbot.addWidget(panel)
    assert isinstance(panel, panel_cls) and panel.isVisible()
    assert panel.model is not None and panel.model.path == path
    assert str(path) in panel.windowTitle()
    assert not panel.unavailable


@pytest.mark.parametrize("spec", DOCKED, ids=lambda spec: spec.key)
def test_every_panel_module_runs_preview_as_main(spec):
    """``python -m`` on each docked panel's module reaches preview(), which opens the model
    named (here none: it says so and exits 1; a module without its __main__ block would exit
    0, silently)."""
    module, missing = spec.panel.__module__, "/no/such/model"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run(
        [sys.executable, "-m", module, missing],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 1
    assert f"{missing}: no such file or folder" in run.stderr


def test_importing_the_gui_pins_none_against_the_pyside6_refcount_leak():
    import sys

    from PySide6.QtWidgets import QWidget

    import smlens.gui  # noqa: F401

    widget = QWidget()
    before = sys.getrefcount(None)
    for _ in range(20_000):
        widget.setEnabled(True)  # a void C++ call: the leak drops None's count each time
    assert sys.getrefcount(None) > 1 << 29
    assert before - sys.getrefcount(None) < 1 << 29


def test_cyclic_garbage_is_collected_only_on_the_ui_thread(qtbot):
    import gc

    from smlens.gui.base import collector
    from smlens.gui.base.preview import application

    application()
    assert not gc.isenabled()  # no collection in whatever worker thread allocates next
    assert collector._collector is not None and collector._collector.timer.isActive()
