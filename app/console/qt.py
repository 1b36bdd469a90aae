"""Qt application set-up shared by the console and its tests: fonts and translations."""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QLibraryInfo, QLocale, QObject, QTimer, QTranslator
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


class QtThreadCollector(QObject):
    """Python's garbage collector, run on the Qt thread only.

    The collector runs in whichever thread happens to allocate past its threshold. The console
    has threads that allocate a great deal (the video media thread, aiortc's decoders, the cache
    worker); a collection there can finalise Qt objects caught in reference cycles off the Qt
    thread, which Qt does not allow ("Timers cannot be stopped from another thread", then a
    crash). So automatic collection is switched off and this timer collects on the Qt thread
    whenever the thresholds say a collection is due, as the collector itself would."""

    INTERVAL_MS = 200

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.collections = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._collect)
        gc.disable()
        self._timer.start(self.INTERVAL_MS)

    def _collect(self) -> None:
        threshold = gc.get_threshold()
        counts = gc.get_count()
        if counts[0] < threshold[0]:
            return
        generation = 2 if counts[2] >= threshold[2] else 1 if counts[1] >= threshold[1] else 0
        gc.collect(generation)
        self.collections += 1

    def stop(self) -> None:
        """Back to Python's own collection (when no console runs in this process any more)."""
        self._timer.stop()
        gc.enable()
        self.setParent(None)
        self.deleteLater()


def collect_on_qt_thread(app: QApplication) -> QtThreadCollector:
    """Install (once) the :class:`QtThreadCollector` on ``app``."""
    found = app.findChild(QtThreadCollector)
    if isinstance(found, QtThreadCollector):
        return found
    return QtThreadCollector(app)
