"""Qt application set-up shared by the console and its tests: fonts and translations."""

from __future__ import annotations

import logging

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from resources import RESOURCES

log = logging.getLogger(__name__)

TRANSLATIONS = RESOURCES / "translations"
#: Families tried in order for Chinese text; the first one installed wins.
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Noto Serif CJK SC")


def choose_font(app: QApplication) -> str | None:
    """Use a CJK font for the whole UI; returns its family, or None when none is installed."""
    families = set(QFontDatabase.families())
    for family in CJK_FAMILIES:
        if family in families:
            font = QFont(family)
            font.setPointSize(10)
            app.setFont(font)
            return family
    log.warning("no CJK font installed: Chinese text will show as boxes (install fonts-noto-cjk)")
    return None


def install_translations(app: QApplication, language: str) -> list[QTranslator]:
    """Install the console's and Qt's own translations for ``language`` (``zh`` by default;
    ``en`` shows the English source strings)."""
    translators: list[QTranslator] = []
    if language.startswith("en"):
        return translators
    locale = QLocale(QLocale.Language.Chinese, QLocale.Country.China)
    QLocale.setDefault(locale)
    ours = QTranslator(app)
    qm = TRANSLATIONS / "cityops_zh_CN.qm"
    if ours.load(str(qm)):
        app.installTranslator(ours)
        translators.append(ours)
    else:
        log.warning("translation %s is missing; run make setup to build it", qm)
    qt = QTranslator(app)
    if qt.load(locale, "qtbase", "_", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        translators.append(qt)
    return translators
