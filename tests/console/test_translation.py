"""Chinese first: every string of the UI has its Simplified Chinese translation, and the console
shows it by default."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

from app.console.qt import TRANSLATIONS


def test_every_ui_string_is_translated() -> None:
    root = ET.parse(TRANSLATIONS / "cityops_zh_CN.ts").getroot()
    missing = []
    for message in root.iter("message"):
        translation = message.find("translation")
        source = message.findtext("source")
        assert translation is not None
        text = "".join(translation.itertext()).strip()
        if translation.get("type") in ("unfinished", "vanished", "obsolete") or not text:
            missing.append(source)
    assert not missing, f"untranslated: {missing}"


def test_the_console_speaks_chinese_by_default(qt_app: QApplication) -> None:
    assert QCoreApplication.translate("ConsoleStatusBar", "Online") == "在线"
    assert QCoreApplication.translate("Names", "Dispatch") == "派遣"
    assert "CJK" in qt_app.font().family() or "Hei" in qt_app.font().family()
