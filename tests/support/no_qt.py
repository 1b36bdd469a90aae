"""Pytest plugin that makes Qt (and the GUI stack around it) unimportable.

Load it with ``-p support.no_qt`` (``tests`` is on pytest's ``pythonpath``)::

    python -m pytest -p support.no_qt tests/domain tests/comms

At import time it puts a finder at the front of ``sys.meta_path`` so that any import
of PySide6, shiboken6, qasync, pyqtgraph, vtk or vtkmodules raises ImportError. A run
that passes with it proves the domain and comms layers work without Qt.

It also blocks the pytest-qt plugin, which would otherwise import PySide6 while pytest
configures itself, and declares pytest-qt's ini options so that pyproject's settings
for it don't turn into "unknown config option" warnings (errors under
``filterwarnings = error``).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import pytest

BLOCKED_PACKAGES = frozenset({"PySide6", "shiboken6", "qasync", "pyqtgraph", "vtk", "vtkmodules"})
MESSAGE = "PySide6 is blocked: this test run proves the core works without Qt"

# Tests check this to know whether the blocker is active in this run.
BLOCKING = False


def _blocked(fullname: str) -> bool:
    return fullname.split(".", 1)[0] in BLOCKED_PACKAGES


class QtBlocker(importlib.abc.MetaPathFinder):
    """Refuses to find any module of the blocked packages."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if _blocked(fullname):
            raise ImportError(f"{MESSAGE} (import of {fullname!r})", name=fullname)
        return None


def _install() -> None:
    global BLOCKING
    already = sorted(name for name in sys.modules if _blocked(name))
    if already:
        raise RuntimeError(
            "support.no_qt was loaded after these modules had been imported, so it "
            f"cannot block them: {', '.join(already)}"
        )
    if not any(isinstance(finder, QtBlocker) for finder in sys.meta_path):
        sys.meta_path.insert(0, QtBlocker())
    BLOCKING = True


_install()


# pytest-qt's plugin name as registered from its entry point.
_PYTEST_QT_PLUGIN = "pytest-qt"

# pytest-qt's ini options, declared here while pytest-qt is blocked.
_PYTEST_QT_INI: dict[str, str] = {
    "qt_api": "pytest-qt option (blocked by support.no_qt)",
    "qt_no_exception_capture": "pytest-qt option (blocked by support.no_qt)",
    "qt_default_raising": "pytest-qt option (blocked by support.no_qt)",
    "qt_log_level_fail": "pytest-qt option (blocked by support.no_qt)",
    "qt_log_ignore": "pytest-qt option (blocked by support.no_qt)",
    "qt_qapp_name": "pytest-qt option (blocked by support.no_qt)",
}


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    # Called as soon as this plugin is registered, which for ``-p`` is before the
    # entry-point plugins load: block pytest-qt before it can import PySide6.
    pluginmanager.set_blocked(_PYTEST_QT_PLUGIN)
    pluginmanager.set_blocked("pytestqt")


def pytest_addoption(parser: pytest.Parser) -> None:
    for name, help_text in _PYTEST_QT_INI.items():
        kwargs: dict[str, Any] = {}
        if name == "qt_log_ignore":
            kwargs["type"] = "linelist"
        parser.addini(name, help_text, **kwargs)


def pytest_report_header() -> str:
    return f"support.no_qt: imports of {', '.join(sorted(BLOCKED_PACKAGES))} are blocked"
