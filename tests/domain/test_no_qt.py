"""Checks that the ``-p support.no_qt`` run really cannot import Qt.

``make test`` runs tests/domain and tests/comms a second time with that plugin; this
test makes sure the blocker is in force there, so a green run means something.
"""

from __future__ import annotations

import importlib
import sys

import pytest


def _blocker_active() -> bool:
    plugin = sys.modules.get("support.no_qt")
    return bool(getattr(plugin, "BLOCKING", False))


@pytest.mark.parametrize("module", ["PySide6", "PySide6.QtCore", "shiboken6", "qasync", "pyqtgraph", "vtk"])
def test_gui_stack_is_unimportable_under_no_qt(module: str) -> None:
    if not _blocker_active():
        pytest.skip("only meaningful under -p support.no_qt")
    with pytest.raises(ImportError, match="PySide6 is blocked"):
        importlib.import_module(module)


def test_no_gui_module_was_imported_under_no_qt() -> None:
    if not _blocker_active():
        pytest.skip("only meaningful under -p support.no_qt")
    blocked = ("PySide6", "shiboken6", "qasync", "pyqtgraph", "vtk", "vtkmodules")
    leaked = sorted(name for name in sys.modules if name.split(".", 1)[0] in blocked)
    assert leaked == []
