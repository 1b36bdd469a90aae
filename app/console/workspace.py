"""The workspace: which windows a profile opens, on which screens, and the layout each
workstation keeps.

Profiles:

* **district** — four screens: incident board and detail; map; video wall; vital signs;
* **street** — two screens: incident board and detail; map and vital signs (tabs);
* **field** — one screen, tabs, touch-sized targets (the on-scene commander's laptop);
* **trainer** — two screens: the board and the drill controls.

Each screen is a window of its own with its panels as docks, which can be dragged to another
window or floated onto any screen. Where each window and dock was is saved per workstation
(:class:`QSettings` in the console's data folder) and restored at the next start; ``reset``
goes back to the profile's default. With fewer screens than the profile has windows, windows
share screens; on a single screen the console opens the compact layout (one window, tabs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QDockWidget, QTabWidget, QWidget

from app.console.window import ScreenWindow


@dataclass(frozen=True)
class PanelSpec:
    """One panel: its object name and the window (screen) it starts on."""

    name: str
    screen: int


@dataclass(frozen=True)
class Profile:
    name: str
    screens: int
    panels: tuple[PanelSpec, ...]
    touch: bool = False


PROFILES: dict[str, Profile] = {
    "district": Profile(
        "district",
        4,
        (
            PanelSpec("board", 0),
            PanelSpec("detail", 0),
            PanelSpec("map", 1),
            PanelSpec("video", 2),
            PanelSpec("calls", 2),
            PanelSpec("vitals", 3),
        ),
    ),
    "street": Profile(
        "street",
        2,
        (
            PanelSpec("board", 0),
            PanelSpec("detail", 0),
            PanelSpec("calls", 0),
            PanelSpec("map", 1),
            PanelSpec("vitals", 1),
        ),
    ),
    "field": Profile(
        "field",
        1,
        (PanelSpec("board", 0), PanelSpec("detail", 0), PanelSpec("map", 0), PanelSpec("calls", 0)),
        touch=True,
    ),
    "trainer": Profile("trainer", 2, (PanelSpec("board", 0), PanelSpec("detail", 0), PanelSpec("drill", 1))),
}

#: The profile a role starts in.
ROLE_PROFILES = {
    "district_officer": "district",
    "street_operator": "street",
    "professional_center": "street",
    "field_commander": "field",
    "trainer": "trainer",
    "auditor": "street",
    "admin": "district",
}

TOUCH_STYLE = """
QTabBar::tab { min-height: 44px; min-width: 120px; font-size: 13pt; }
QPushButton { min-height: 40px; min-width: 64px; font-size: 12pt; }
QComboBox, QLineEdit, QSpinBox { min-height: 36px; font-size: 12pt; }
QCheckBox::indicator { width: 28px; height: 28px; }
QTableView { font-size: 12pt; }
"""

PanelFactory = Callable[[str], tuple[str, QWidget]]
"""Makes a panel by name: returns its title and widget."""


class Workspace:
    """Builds the windows of a profile over the screens there are, and keeps their layout."""

    def __init__(
        self,
        profile: Profile,
        make_panel: PanelFactory,
        settings_path: Path,
        window_title: str,
        watermark: str,
    ) -> None:
        self.profile = profile
        self.make_panel = make_panel
        self.settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
        self.window_title = window_title
        self.watermark = watermark
        self.windows: list[ScreenWindow] = []
        self.docks: dict[str, QDockWidget] = {}
        self.panels: dict[str, QWidget] = {}
        self.compact = False

    # -- building ---------------------------------------------------------------------------------
    def build(self, screens: list[QScreen] | None = None) -> list[ScreenWindow]:
        """Open the profile's windows, each on its screen, and restore the saved layout."""
        screens = screens if screens is not None else QGuiApplication.screens()
        self.compact = (len(screens) <= 1 and self.profile.screens > 1) or self.profile.touch
        if self.compact:
            self._build_compact(screens)
        else:
            self._build_windows(screens)
        self.restore()
        for window in self.windows:
            window.show()
        return self.windows

    def _build_compact(self, screens: list[QScreen]) -> None:
        window = ScreenWindow("screen0", self.window_title, self.watermark)
        if screens:
            window.setScreen(screens[0])
            window.setGeometry(screens[0].availableGeometry())
        tabs = QTabWidget()
        tabs.setObjectName("compactTabs")
        tabs.setDocumentMode(True)
        if self.profile.touch:
            # Fingers and gloves on a rugged laptop: targets of at least 40 px.
            window.setStyleSheet(TOUCH_STYLE)
        for spec in self.profile.panels:
            title, widget = self.make_panel(spec.name)
            widget.setObjectName(f"panel_{spec.name}")
            self.panels[spec.name] = widget
            tabs.addTab(widget, title)
        window.set_content(tabs)
        self.windows.append(window)

    def _build_windows(self, screens: list[QScreen]) -> None:
        for index in range(self.profile.screens):
            window = ScreenWindow(f"screen{index}", self.window_title, self.watermark)
            window.setDockNestingEnabled(True)
            placeholder = QWidget()
            placeholder.setObjectName(f"centre{index}")
            placeholder.setMaximumSize(0, 0)
            window.set_content(placeholder)
            screen = screens[index % len(screens)]
            window.setScreen(screen)
            window.setGeometry(screen.availableGeometry())
            self.windows.append(window)
        firsts: dict[tuple[int, Qt.DockWidgetArea], QDockWidget] = {}
        for spec in self.profile.panels:
            title, widget = self.make_panel(spec.name)
            widget.setObjectName(f"panel_{spec.name}")
            dock = QDockWidget(title)
            dock.setObjectName(f"dock_{spec.name}")
            dock.setWidget(widget)
            dock.setFeatures(
                QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            )
            area = (
                Qt.DockWidgetArea.RightDockWidgetArea if spec.name == "detail" else Qt.DockWidgetArea.LeftDockWidgetArea
            )
            window = self.windows[spec.screen]
            window.addDockWidget(area, dock)
            # Panels that share a screen's side share it as tabs (the first one in front), except
            # the board and the detail, which sit side by side.
            first = firsts.setdefault((spec.screen, area), dock)
            if first is not dock and spec.name not in ("board", "detail"):
                window.tabifyDockWidget(first, dock)
                first.raise_()
            self.docks[spec.name] = dock
            self.panels[spec.name] = widget
        for window in self.windows:
            window.default_state = window.saveState()

    def show_panel(self, name: str) -> None:
        """Bring a panel to the front: its tab in the compact layout, its dock otherwise."""
        widget = self.panels.get(name)
        if widget is None:
            return
        if self.compact:
            tabs = self.windows[0].centralWidget()
            if isinstance(tabs, QTabWidget):
                tabs.setCurrentWidget(widget)
        else:
            dock = self.docks.get(name)
            if dock is not None:
                dock.show()
                dock.raise_()

    # -- layout per workstation ---------------------------------------------------------------------
    def _key(self, window: ScreenWindow) -> str:
        mode = "compact" if self.compact else "full"
        return f"{self.profile.name}/{mode}/{window.objectName()}"

    def save(self) -> None:
        """Remember where every window and dock is."""
        for window in self.windows:
            self.settings.setValue(f"{self._key(window)}/geometry", window.saveGeometry())
            self.settings.setValue(f"{self._key(window)}/state", window.saveState())
            screen = window.screen()
            self.settings.setValue(f"{self._key(window)}/screen", screen.name() if screen else "")
        self.settings.sync()

    def restore(self) -> bool:
        """Put windows and docks where this workstation had them; False when nothing was saved."""
        restored = False
        names = {s.name(): s for s in QGuiApplication.screens()}
        for window in self.windows:
            geometry = self.settings.value(f"{self._key(window)}/geometry")
            state = self.settings.value(f"{self._key(window)}/state")
            screen_name = self.settings.value(f"{self._key(window)}/screen")
            if isinstance(screen_name, str) and screen_name in names:
                window.setScreen(names[screen_name])
            if isinstance(geometry, QByteArray) and window.restoreGeometry(geometry):
                restored = True
            if isinstance(state, QByteArray) and not self.compact:
                window.restoreState(state)
        return restored

    def reset(self, screens: list[QScreen] | None = None) -> None:
        """Forget this workstation's layout and go back to the profile's default."""
        for window in self.windows:
            self.settings.remove(self._key(window))
        self.settings.sync()
        screens = screens if screens is not None else QGuiApplication.screens()
        for index, window in enumerate(self.windows):
            screen = screens[index % len(screens)]
            window.setScreen(screen)
            window.setGeometry(screen.availableGeometry())
            if window.default_state is not None:
                window.restoreState(window.default_state)
