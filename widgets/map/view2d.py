"""The 2D district map: incidents as clusters and markers, devices, the district's layers.

:class:`MapView` gets the district's layers when it is made and the incidents and devices from
its owner (attributes down), and tells the owner what the operator picked (messages up:
:attr:`MapView.incidentActivated`, :attr:`MapView.clusterListed`,
:attr:`MapView.deviceActivated`, :attr:`MapView.viewChanged`). A camera dragged off the map
carries :data:`~widgets.video.feed.CAMERA_MIME`, for the video wall. It paints with QPainter
into itself: no scene graph, no web view, no network tiles.

Drawing is in projected metres (:mod:`widgets.map.projection`) through one world → screen
transform. The vector layers are paths built once (:mod:`widgets.map.layers`); incidents are
clustered on a screen-space grid with numpy (:mod:`widgets.map.clusters`), and the clustering
is kept while only the view's position changes inside the clustered area. Data changes
repaint at most ~30 times a second.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, QRectF, Qt, QTimer, QVariantAnimation, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QContextMenuEvent,
    QDrag,
    QFont,
    QFontMetricsF,
    QHelpEvent,
    QIcon,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QShowEvent,
    QStaticText,
    QTouchEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QApplication, QMenu, QToolButton, QToolTip, QWidget

from app.domain.devices import Device, DeviceKind, DeviceState
from app.domain.district import DistrictMap
from widgets.common.names import Names
from widgets.map import style
from widgets.map.clusters import Cluster, Clusterer, Clustering, IncidentColumns, ViewBox
from widgets.map.heat import heat_image
from widgets.map.layers import Label, MapLayers
from widgets.map.overlays import MapLegend, Panel, camera_glyph, label
from widgets.map.projection import FloatArray, Projection, polygon_f
from widgets.video.feed import CAMERA_MIME, camera_payload

LAYERS: Final = ("boundary", "neighbours", "streets", "grid", "incidents", "sensors", "cameras", "heat")
OFF_BY_DEFAULT: Final = frozenset({"heat"})

#: Largest zoom, pixels per metre (half a metre per pixel).
MAX_SCALE: Final = 2.0
#: The zoom that following a selected incident goes to when the map is further out.
STREET_SCALE: Final = 0.5
#: The unit grid is drawn only when a cell is wider than this on screen.
GRID_MIN_PX: Final = 6.0
#: A single incident's marker radius, and the bubbles' smallest and largest radius (pixels).
MARKER_R: Final = 6.0
BUBBLE_R: Final = (10.0, 26.0)
#: Minimum time between repaints caused by data changes (about 30 Hz).
REPAINT_MS: Final = 33
#: How far the pointer may move (pixels) before a press becomes a drag.
DRAG_PX: Final = 5
#: Incidents listed in a cluster's pop-up at most (all ids go out in clusterListed).
LIST_MAX: Final = 40
#: Devices in view above which they are drawn as plain dots.
DEVICE_GLYPHS_MAX: Final = 4000
#: Sub-pixel shifts at which the district boundary's hairline is drawn (its weight) and its glow.
BOUNDARY_LINE: Final = ((0.0, 0.0), (0.7, 0.0), (0.0, 0.7), (0.7, 0.7))
BOUNDARY_GLOW: Final = ((-1.6, 0.0), (2.3, 0.0), (0.0, -1.6), (0.0, 2.3))


def _nice_length(metres: float) -> float:
    """The largest 1, 2 or 5 × 10^k not above ``metres``."""
    if metres <= 0:
        return 0.0
    power = 10.0 ** math.floor(math.log10(metres))
    for step in (5.0, 2.0, 1.0):
        if step * power <= metres:
            return step * power
    return power


class MapView(QWidget):
    """The district map. Attributes down: :meth:`set_incidents`, :meth:`upsert_incidents`,
    :meth:`remove_incidents`, :meth:`set_devices`, :meth:`update_devices`,
    :meth:`select_incident`, :meth:`set_follow`, :meth:`set_layer_visible`,
    :meth:`center_on`, :meth:`fit_district`. Messages up: :attr:`incidentActivated` (the
    operator picked one incident), :attr:`clusterListed` (the ids of a cluster the operator
    asked to list), :attr:`deviceActivated`, :attr:`viewChanged`."""

    incidentActivated = Signal(int)
    clusterListed = Signal(list)
    deviceActivated = Signal(str)
    viewChanged = Signal()

    LAYERS = LAYERS
    #: Duration of the animated zoom into a cluster (0: jump).
    animation_ms = 220

    def __init__(self, district: DistrictMap, language: str = "zh", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.district = district
        self.language = language
        b = district.bounds
        self.projection = Projection((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0)
        self.layers = MapLayers(district, self.projection, language)
        self.incidents = IncidentColumns(self.projection)
        """The incidents the map shows, column by column (read-only for owners)."""
        self.clusterer = Clusterer(self.incidents)
        self._visible = {name: name not in OFF_BY_DEFAULT for name in LAYERS}
        self._cx, self._cy, self._scale = 0.0, 0.0, 0.05
        self._placed = False
        self._selected: int | None = None
        self._follow = True
        self.names = Names()

        # Devices: the records by id and, rebuilt when they change, arrays for drawing.
        self._devices: dict[str, Device] = {}
        self._device_ids: list[str] = []
        self._dev_x: FloatArray = np.zeros(0)
        self._dev_y: FloatArray = np.zeros(0)
        self._dev_state: npt.NDArray[np.int8] = np.zeros(0, dtype=np.int8)
        self._dev_camera: npt.NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self._devices_dirty = False

        # What the last paint drew, for hit testing: screen x, y, radius and cluster index.
        self._hit_clusters: tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.int64]] | None = None
        self._hit_clustering: Clustering | None = None
        self._hit_devices: tuple[FloatArray, FloatArray, npt.NDArray[np.int64]] | None = None
        self._heat: tuple[object, QImage, ViewBox] | None = None
        self._view_labels: tuple[tuple[float, float, float, int, int], list[Label], list[Label]] | None = None
        self._text_cache: dict[str, QStaticText] = {}
        self._sprites: dict[tuple[object, ...], tuple[QPixmap, float]] = {}
        self._label_sprites: dict[str, QPixmap] = {}
        self._swatches: dict[int, QIcon] = {}
        self.last_paint_ms = 0.0

        # Pointer state.
        self._press: QPointF | None = None
        self._press_view: tuple[float, float] | None = None
        self._dragging = False
        self._press_camera: str | None = None
        self._pinch: tuple[float, float, float, float, tuple[int, int]] | None = None
        self._touch_start: QPointF | None = None
        self._touch_moved = False
        self._touch_pinched = False

        self._last_paint = 0.0
        self._repaint_timer = QTimer(self)
        self._repaint_timer.setSingleShot(True)
        self._repaint_timer.timeout.connect(self.update)
        self._cell_timer = QTimer(self)
        self._cell_timer.setSingleShot(True)
        self._cell_timer.setInterval(80)
        self._cell_timer.timeout.connect(self._update_cell)
        self._animation = QVariantAnimation(self)
        self._animation.setStartValue(0.0)
        self._animation.setEndValue(1.0)
        self._animation.valueChanged.connect(self._animate)
        self._animation_from = (0.0, 0.0, 1.0)
        self._animation_to = (0.0, 0.0, 1.0)
        self.list_menu: QMenu | None = None
        """The last cluster's pop-up list of incidents."""
        self.context_menu: QMenu | None = None
        """The last context menu."""

        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(320, 240)
        self._bubble_font = QFont(self.font())
        self._bubble_font.setBold(True)
        self._bubble_font.setPixelSize(11)
        self._label_font = QFont(self.font())
        self._label_font.setPixelSize(13)
        self._label_font.setBold(True)
        self._neighbour_font = QFont(self.font())
        self._neighbour_font.setPixelSize(13)
        self._small_font = QFont(self.font())
        self._small_font.setPixelSize(11)
        self._build_overlays()

    # == overlays ===========================================================================
    def _build_overlays(self) -> None:
        self.toolbar = Panel(self)

        def button(text: str, tip: str, checkable: bool = False) -> QToolButton:
            b = QToolButton(self.toolbar)
            b.setText(text)
            b.setToolTip(tip)
            b.setCheckable(checkable)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.toolbar.box.addWidget(b)
            return b

        self.zoom_in_button = button("+", self.tr("Zoom in (+)"))
        self.zoom_in_button.clicked.connect(lambda: self.zoom_by(2.0))
        self.zoom_out_button = button("−", self.tr("Zoom out (−)"))
        self.zoom_out_button.clicked.connect(lambda: self.zoom_by(0.5))
        self.fit_button = button(self.tr("Whole district"), self.tr("Fit the whole district (Home)"))
        self.fit_button.clicked.connect(self.fit_district)
        self.layers_button = button(self.tr("Layers"), self.tr("Show or hide map layers"))
        self.layers_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.layers_menu = QMenu(self.layers_button)
        titles = {
            "boundary": self.tr("District boundary"),
            "neighbours": self.tr("Neighbouring districts"),
            "streets": self.tr("Streets"),
            "grid": self.tr("Unit grid (shown when a cell is over 6 px)"),
            "incidents": self.tr("Incidents"),
            "sensors": self.tr("Sensors"),
            "cameras": self.tr("Cameras"),
            "heat": self.tr("Incident heat"),
        }
        self.layer_actions: dict[str, QAction] = {}
        for name in LAYERS:
            action = self.layers_menu.addAction(titles[name])
            action.setCheckable(True)
            action.setChecked(self._visible[name])
            action.toggled.connect(lambda on, name=name: self.set_layer_visible(name, on))
            self.layer_actions[name] = action
        self.layers_button.setMenu(self.layers_menu)
        self.follow_button = button(
            self.tr("Follow selected"), self.tr("Centre the map on the selected incident"), checkable=True
        )
        self.follow_button.setChecked(self._follow)
        self.follow_button.toggled.connect(self.set_follow)
        self.toolbar.adjustSize()

        severities = [(level, self.names.severity(level)) for level in (1, 2, 3, 4)]
        state_names = {
            DeviceState.NORMAL: self.tr("Normal"),
            DeviceState.ALARM: self.tr("Alarm"),
            DeviceState.OFFLINE: self.tr("Offline"),
            DeviceState.FAULT: self.tr("Fault"),
        }
        self.legend = MapLegend(self, severities, [state_names[s] for s in style.STATES], self.tr("Devices"))
        self.legend.resize(self.legend.sizeHint())

        self.notice: Panel | None = None
        if not self.district.streets_official:
            self.notice = Panel(self)
            text = label(self.notice, self.tr("Street boundaries are approximate"), "notice")
            self.notice.box.addWidget(text)
            self.notice.setToolTip(self.district.streets_note)
            text.setToolTip(self.district.streets_note)
            self.notice.adjustSize()

        self.info = Panel(self, vertical=True)
        self.info.box.setSpacing(1)
        self.coordinates = label(self.info, " ")
        self.coordinates.setFont(self._small_font)
        # Wide enough for the longest readout, so the panel does not resize as the pointer moves.
        sample = "121.000000, 31.000000   " + self.tr("Grid cell %1").replace("%1", "310107000000000000")
        self.coordinates.setMinimumWidth(math.ceil(QFontMetricsF(self._small_font).horizontalAdvance(sample)) + 8)
        self.source = label(self.info, self.tr("Boundary: %1").replace("%1", self.district.source_note), "muted")
        self.source.setFont(self._small_font)
        self.info.box.addWidget(self.coordinates)
        self.info.box.addWidget(self.source)
        self._cursor_lonlat: tuple[float, float] | None = None
        self._cursor_cell = ""
        self._show_coordinates()

    def _place_overlays(self) -> None:
        w, h, m = self.width(), self.height(), 8
        self.toolbar.adjustSize()
        self.toolbar.move(m, m)
        self.legend.move(w - self.legend.width() - m, m)
        if self.notice is not None:
            self.notice.adjustSize()
            self.notice.move(w - self.notice.width() - m, m + self.legend.height() + 6)
        self.info.adjustSize()
        self.info.move(w - self.info.width() - m, h - self.info.height() - m)

    # == the view ==========================================================================
    def scale(self) -> float:
        """The zoom: screen pixels per metre."""
        return self._scale

    def center(self) -> tuple[float, float]:
        """(lon, lat) at the centre of the view."""
        return self.projection.lonlat(self._cx, self._cy)

    def fit_scale(self) -> float:
        x0, y0, x1, y1 = self._district_box()
        return min(self.width() / max(x1 - x0, 1.0), self.height() / max(y1 - y0, 1.0)) * 0.9

    def min_scale(self) -> float:
        return self.fit_scale() / 4.0

    def _district_box(self) -> ViewBox:
        # Qt's path box is in the path's own coordinates: y north, so top < bottom.
        x0, y0, x1, y1 = self.layers.district_box
        return (x0, min(y0, y1), x1, max(y0, y1))

    def _set_view(self, cx: float, cy: float, scale: float, placed: bool = True) -> None:
        """Move the view (clamped: zoom within its limits, the centre near the district).
        ``placed``: the operator or the owner chose this view, so a resize keeps it."""
        scale = min(max(scale, self.min_scale()), MAX_SCALE)
        x0, y0, x1, y1 = self._district_box()
        mx, my = (x1 - x0) * 0.5, (y1 - y0) * 0.5
        cx = min(max(cx, x0 - mx), x1 + mx)
        cy = min(max(cy, y0 - my), y1 + my)
        self._placed = self._placed or placed
        if (cx, cy, scale) == (self._cx, self._cy, self._scale):
            return
        self._cx, self._cy, self._scale = cx, cy, scale
        self.update()
        self.viewChanged.emit()

    def center_on(self, lon: float, lat: float, scale: float | None = None) -> None:
        """Put (lon, lat) at the centre of the view, at ``scale`` pixels per metre if given."""
        self._animation.stop()
        x, y = self.projection.point(lon, lat)
        self._set_view(x, y, self._scale if scale is None else scale)

    def fit_district(self) -> None:
        """Show the whole district."""
        self._animation.stop()
        self._fit(placed=True)

    def _fit(self, placed: bool) -> None:
        x0, y0, x1, y1 = self._district_box()
        self._set_view((x0 + x1) / 2.0, (y0 + y1) / 2.0, self.fit_scale(), placed)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by ``factor`` keeping the point under ``anchor`` (default: the centre) still."""
        self._animation.stop()
        self._zoom_to(self._scale * factor, anchor)

    def _zoom_to(self, scale: float, anchor: QPointF | None) -> None:
        scale = min(max(scale, self.min_scale()), MAX_SCALE)
        if anchor is None:
            self._set_view(self._cx, self._cy, scale)
            return
        wx, wy = self._to_world(anchor)
        dx, dy = anchor.x() - self.width() / 2.0, anchor.y() - self.height() / 2.0
        self._set_view(wx - dx / scale, wy + dy / scale, scale)

    def pan_by(self, dx: float, dy: float) -> None:
        """Move the map's content by (dx, dy) pixels."""
        self._set_view(self._cx - dx / self._scale, self._cy + dy / self._scale, self._scale)

    def view_box(self) -> ViewBox:
        """The view in projected metres: (x0, y0, x1, y1), y north."""
        hw, hh = self.width() / 2.0 / self._scale, self.height() / 2.0 / self._scale
        return (self._cx - hw, self._cy - hh, self._cx + hw, self._cy + hh)

    def view_bounds(self) -> tuple[float, float, float, float]:
        """(min_lon, min_lat, max_lon, max_lat) of the view."""
        x0, y0, x1, y1 = self.view_box()
        lon0, lat0 = self.projection.lonlat(x0, y0)
        lon1, lat1 = self.projection.lonlat(x1, y1)
        return (lon0, lat0, lon1, lat1)

    def world_transform(self) -> QTransform:
        """Projected metres → widget pixels."""
        s = self._scale
        return QTransform(s, 0.0, 0.0, -s, self.width() / 2.0 - self._cx * s, self.height() / 2.0 + self._cy * s)

    def to_screen(self, lon: float, lat: float) -> QPointF:
        """Where (lon, lat) is in the widget, in pixels."""
        x, y = self.projection.point(lon, lat)
        return QPointF(
            (x - self._cx) * self._scale + self.width() / 2.0, self.height() / 2.0 - (y - self._cy) * self._scale
        )

    def to_lonlat(self, pos: QPointF) -> tuple[float, float]:
        """The (lon, lat) under a widget position."""
        return self.projection.lonlat(*self._to_world(pos))

    def _to_world(self, pos: QPointF) -> tuple[float, float]:
        return (
            self._cx + (pos.x() - self.width() / 2.0) / self._scale,
            self._cy - (pos.y() - self.height() / 2.0) / self._scale,
        )

    # == layers ============================================================================
    def set_layer_visible(self, name: str, on: bool) -> None:
        if name not in self._visible:
            raise ValueError(f"unknown layer {name!r}; layers are {', '.join(LAYERS)}")
        if self._visible[name] == on:
            return
        self._visible[name] = on
        action = self.layer_actions[name]
        if action.isChecked() != on:
            action.setChecked(on)
        self.update()

    def layer_visible(self, name: str) -> bool:
        return self._visible[name]

    def grid_drawn(self) -> bool:
        """Whether the unit grid is drawn now (its layer on and cells big enough)."""
        return self._visible["grid"] and self.layers.cell_m * self._scale > GRID_MIN_PX

    # == incidents =========================================================================
    def set_incidents(
        self, ids: npt.ArrayLike, lon: npt.ArrayLike, lat: npt.ArrayLike, severity: npt.ArrayLike
    ) -> None:
        """Replace every incident shown (arrays of int64 ids, float64 lon/lat, int8 levels)."""
        self.incidents.set(ids, lon, lat, severity)
        self._data_changed()

    def upsert_incidents(
        self, ids: npt.ArrayLike, lon: npt.ArrayLike, lat: npt.ArrayLike, severity: npt.ArrayLike
    ) -> None:
        """Add new incidents, move or recolour known ones."""
        self.incidents.upsert(ids, lon, lat, severity)
        self._data_changed()

    def remove_incidents(self, ids: npt.ArrayLike) -> None:
        if self.incidents.remove(ids):
            self._data_changed()

    def _data_changed(self) -> None:
        """Repaint once soon: a burst of changes makes one repaint, at most ~30 a second."""
        if self._repaint_timer.isActive():
            return
        since = (time.perf_counter() - self._last_paint) * 1000.0
        self._repaint_timer.start(max(0, int(REPAINT_MS - since)))

    def select_incident(self, incident_id: int | None) -> None:
        """Ring the incident; with :meth:`follow` on, centre on it (zooming in to street
        level when the map is further out). The echo of a pick on the map itself (the
        incident already selected and in view) leaves the map where the operator has it."""
        echo = incident_id is not None and incident_id == self._selected and self._in_view(incident_id)
        self._selected = incident_id
        if self._follow and not echo:
            self._go_to_selected()
        self.update()

    def _in_view(self, incident_id: int) -> bool:
        row = self.incidents.row(incident_id)
        if row is None:
            return False
        x0, y0, x1, y1 = self.view_box()
        return bool(x0 <= self.incidents.x[row] <= x1 and y0 <= self.incidents.y[row] <= y1)

    def _go_to_selected(self) -> None:
        where = None if self._selected is None else self.incidents.position(self._selected)
        if where is not None:
            self.center_on(where[0], where[1], max(self._scale, STREET_SCALE))

    def selected_incident(self) -> int | None:
        return self._selected

    def set_follow(self, on: bool) -> None:
        """Follow (centre on) the selected incident."""
        self._follow = on
        if self.follow_button.isChecked() != on:
            self.follow_button.setChecked(on)
        if on:
            self._go_to_selected()

    def follow(self) -> bool:
        return self._follow

    def clustering(self) -> Clustering:
        """The clustering for the current view (computed if the cached one does not fit)."""
        return self.clusterer.clusters(self.view_box(), self._scale)

    def visible_clusters(self) -> list[Cluster]:
        """The clusters in view, each made of its incidents inside the view."""
        return self.clustering().within(self.view_box())

    def incidents_in_view(self) -> int:
        n = self.incidents.n
        x, y = self.incidents.x[:n], self.incidents.y[:n]
        x0, y0, x1, y1 = self.view_box()
        return int(np.count_nonzero((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)))

    # == devices ===========================================================================
    def set_devices(self, devices: Sequence[Device]) -> None:
        """Replace every device shown."""
        self._devices = {d.id: d for d in devices}
        self._devices_dirty = True
        self._data_changed()

    def device_ids(self) -> list[str]:
        """The ids of the devices shown."""
        return sorted(self._devices)

    def device(self, device_id: str) -> Device | None:
        return self._devices.get(device_id)

    def update_devices(self, devices: Sequence[Device]) -> None:
        """New or changed devices (by id)."""
        for d in devices:
            self._devices[d.id] = d
        self._devices_dirty = True
        self._data_changed()

    def _device_arrays(self) -> None:
        if not self._devices_dirty:
            return
        devices = list(self._devices.values())
        self._device_ids = [d.id for d in devices]
        lon = np.fromiter((d.lon for d in devices), dtype=np.float64, count=len(devices))
        lat = np.fromiter((d.lat for d in devices), dtype=np.float64, count=len(devices))
        self._dev_x, self._dev_y = self.projection.forward(lon, lat)
        index = {state: i for i, state in enumerate(style.STATES)}
        self._dev_state = np.fromiter((index[d.state] for d in devices), dtype=np.int8, count=len(devices))
        self._dev_camera = np.fromiter((d.kind == DeviceKind.CAMERA for d in devices), dtype=bool, count=len(devices))
        self._devices_dirty = False

    # == painting ==========================================================================
    def paintEvent(self, event: QPaintEvent) -> None:
        t0 = time.perf_counter()
        p = QPainter(self)
        p.fillRect(self.rect(), style.BACKGROUND)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint_layers(p)
        if self._visible["sensors"] or self._visible["cameras"]:
            self._paint_devices(p)
        else:
            self._hit_devices = None
        if self._visible["incidents"]:
            self._paint_incidents(p)
        else:
            self._hit_clusters = None
        # Names over the markers: a few words, and the operator needs them to know where things are.
        self._paint_labels(p)
        if self._visible["incidents"]:
            self._paint_selection(p)
        self._paint_scale_bar(p)
        p.end()
        self._last_paint = time.perf_counter()
        self.last_paint_ms = (self._last_paint - t0) * 1000.0

    @staticmethod
    def _pen(colour: QColor, width: float, cosmetic: bool = True) -> QPen:
        pen = QPen(colour, width)
        pen.setCosmetic(cosmetic)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return pen

    def _paint_layers(self, p: QPainter) -> None:
        # Every line is a cosmetic hairline: Qt draws those without its path stroker, ten times
        # faster than a 2-px pen. The boundary's weight comes from drawing it a few times
        # shifted by under a pixel, and its glow the same way, translucent.
        world = self.world_transform()
        p.save()
        p.setTransform(world)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(style.DISTRICT_FILL)
        p.drawPath(self.layers.district_path)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if self._visible["neighbours"]:
            p.setPen(self._pen(style.NEIGHBOUR_LINE, 1.0))
            p.drawPath(self.layers.neighbours_path)
        if self.grid_drawn():
            # Crisp and faster without antialiasing.
            p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            p.setPen(self._pen(style.GRID_LINE, 1.0))
            p.drawPath(self.layers.grid_path)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self._visible["heat"]:
            p.resetTransform()
            self._paint_heat(p)
            p.setTransform(world)
        if self._visible["streets"]:
            p.setPen(self._pen(style.STREET_LINE, 1.0))
            p.drawPath(self.layers.streets_path)
        if self._visible["boundary"]:
            for colour, offsets in ((style.BOUNDARY_GLOW, BOUNDARY_GLOW), (style.BOUNDARY, BOUNDARY_LINE)):
                p.setPen(self._pen(colour, 1.0))
                for dx, dy in offsets:
                    p.setTransform(world * QTransform.fromTranslate(dx, dy))
                    p.drawPath(self.layers.district_path)
        p.restore()

    def _paint_heat(self, p: QPainter) -> None:
        clustering = self.clustering()
        key = (self.incidents.generation, clustering.cell_m, clustering.area)
        if self._heat is None or self._heat[0] != key:
            n = self.incidents.n
            # Bins of about 7 px, blurred over two: the heat is soft anyway, drawn smoothly
            # scaled, and a recompute on zoom stays within a frame's budget.
            bin_m = clustering.cell_m / 8.0
            rgba = heat_image(self.incidents.x[:n], self.incidents.y[:n], clustering.area, bin_m, radius=2)
            rows, cols = rgba.shape[:2]
            image = QImage(rgba.data, cols, rows, cols * 4, QImage.Format.Format_RGBA8888_Premultiplied).copy()
            self._heat = (key, image, clustering.area)
        _, image, (x0, y0, x1, y1) = self._heat
        s = self._scale
        left = (x0 - self._cx) * s + self.width() / 2.0
        top = self.height() / 2.0 - (y1 - self._cy) * s
        p.save()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        p.drawImage(QRectF(left, top, (x1 - x0) * s, (y1 - y0) * s), image)
        p.restore()

    def _label_sprite(self, text: str, font: QFont, colour: QColor) -> QPixmap:
        """A name with a dark halo, drawn once (the halo is a stroked text outline, which is
        slow to draw every frame)."""
        dpr = self.devicePixelRatioF()
        key = f"{dpr}|{font.pixelSize()}|{font.bold()}|{colour.name()}|{text}"
        pixmap = self._label_sprites.get(key)
        if pixmap is not None:
            return pixmap
        fm = QFontMetricsF(font)
        w, h = math.ceil(fm.horizontalAdvance(text) + 6), math.ceil(fm.height() + 6)
        pixmap = QPixmap(round(w * dpr), round(h * dpr))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        path = QPainterPath()
        path.addText(QPointF(3.0, 3.0 + fm.ascent()), font, text)
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(QPen(style.HALO, 3.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
        p.drawPath(path)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawPath(path)
        p.end()
        self._label_sprites[key] = pixmap
        return pixmap

    def _paint_label(self, p: QPainter, lbl: Label, font: QFont, colour: QColor) -> bool:
        """Write an area's name at its label point if it fits inside the area."""
        fm = QFontMetricsF(font)
        width = fm.horizontalAdvance(lbl.text)
        s = self._scale
        if width > lbl.width_m * s * 0.9 or fm.height() > lbl.height_m * s * 0.8:
            return False
        pixmap = self._label_sprite(lbl.text, font, colour)
        dpr = pixmap.devicePixelRatio()
        w, h = pixmap.width() / dpr, pixmap.height() / dpr
        x = (lbl.x - self._cx) * s + self.width() / 2.0 - w / 2.0
        y = self.height() / 2.0 - (lbl.y - self._cy) * s - h / 2.0
        if x + w < 0 or x > self.width() or y + h < 0 or y > self.height():
            return False
        p.drawPixmap(QPointF(round(x), round(y)), pixmap)
        return True

    def _labels(self) -> tuple[list[Label], list[Label]]:
        """Neighbour and street labels for the current view (recomputed when it changes)."""
        key = (self._cx, self._cy, self._scale, self.width(), self.height())
        if self._view_labels is None or self._view_labels[0] != key:
            bounds = self.view_bounds()
            self._view_labels = (key, self.layers.neighbour_labels(bounds), self.layers.street_labels_in(bounds))
        return self._view_labels[1], self._view_labels[2]

    def _paint_labels(self, p: QPainter) -> None:
        neighbours, streets = self._labels()
        if self._visible["neighbours"]:
            for lbl in neighbours:
                self._paint_label(p, lbl, self._neighbour_font, style.NEIGHBOUR_TEXT)
        if self._visible["streets"]:
            for lbl in streets:
                self._paint_label(p, lbl, self._label_font, style.STREET_TEXT)

    # -- sprites: each marker kind is drawn once into a pixmap, then blitted (a blit costs a
    # tenth of an antialiased ellipse, and a view holds hundreds of markers).
    def _sprite(self, key: tuple[object, ...]) -> tuple[QPixmap, float]:
        """The pixmap for a marker and the offset from its centre to its top-left corner."""
        dpr = self.devicePixelRatioF()
        found = self._sprites.get((*key, dpr))
        if found is not None:
            return found
        kind = key[0]
        if kind == "bubble":
            _, level, r2 = key
            r = float(r2) / 2.0  # type: ignore[arg-type]
            half = r + 5.0
        elif kind == "marker":
            _, level = key
            r, half = MARKER_R, MARKER_R + 2.0
        else:
            _, camera, state = key
            half = 12.0
        side = math.ceil(2 * half)
        pixmap = QPixmap(round(side * dpr), round(side * dpr))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        p = QPainter(pixmap)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        c = QPointF(side / 2.0, side / 2.0)
        if kind in ("bubble", "marker"):
            colour = style.SEVERITY.get(int(level), style.SEVERITY[4])  # type: ignore[call-overload]
            if kind == "bubble":
                glow = QColor(colour)
                glow.setAlpha(75)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(glow)
                p.drawEllipse(c, r + 4.0, r + 4.0)
                p.setPen(QPen(QColor(255, 255, 255, 215), 1.5))
            else:
                p.setPen(QPen(style.HALO, 1.5))
            p.setBrush(colour)
            p.drawEllipse(c, r, r)
        else:
            state_colour = style.DEVICE_STATE[style.STATES[int(state)]]  # type: ignore[call-overload]
            if style.STATES[int(state)] == DeviceState.ALARM:  # type: ignore[call-overload]
                halo = QColor(state_colour)
                halo.setAlpha(80)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(halo)
                p.drawEllipse(c, 11.0, 11.0)
            p.setPen(QPen(style.HALO, 1.0))
            p.setBrush(state_colour)
            if camera:
                p.drawPolygon(camera_glyph(11.0).translated(c))
            else:
                p.drawRect(QRectF(c.x() - 4.0, c.y() - 4.0, 8.0, 8.0))
        p.end()
        self._sprites[(*key, dpr)] = (pixmap, side / 2.0)
        return pixmap, side / 2.0

    def _paint_devices(self, p: QPainter) -> None:
        self._device_arrays()
        self._hit_devices = None
        if not len(self._device_ids):
            return
        s, w, h = self._scale, self.width(), self.height()
        sx = (self._dev_x - self._cx) * s + w / 2.0
        sy = h / 2.0 - (self._dev_y - self._cy) * s
        shown = (sx > -12) & (sx < w + 12) & (sy > -12) & (sy < h + 12)
        if not self._visible["sensors"]:
            shown &= self._dev_camera
        if not self._visible["cameras"]:
            shown &= ~self._dev_camera
        idx = np.flatnonzero(shown)
        if not len(idx):
            return
        alarm = style.STATES.index(DeviceState.ALARM)
        # Alarms last, so they are on top.
        idx = idx[np.argsort(self._dev_state[idx] == alarm, kind="stable")]
        self._hit_devices = (sx[idx], sy[idx], idx)
        if len(idx) > DEVICE_GLYPHS_MAX:
            for k, state in enumerate(style.STATES):
                chosen = idx[self._dev_state[idx] == k]
                pen = QPen(style.DEVICE_STATE[state], 5.0 if k == alarm else 3.5)
                pen.setCapStyle(Qt.PenCapStyle.RoundCap)
                p.setPen(pen)
                p.drawPoints(polygon_f(sx[chosen], sy[chosen]))
            return
        states, cameras = self._dev_state[idx].tolist(), self._dev_camera[idx].tolist()
        for x, y, state, camera in zip(sx[idx].tolist(), sy[idx].tolist(), states, cameras, strict=True):
            pixmap, half = self._sprite(("device", camera, state))
            p.drawPixmap(QPointF(x - half, y - half), pixmap)

    def _count_text(self, count: int) -> QStaticText:
        if count < 10_000:
            text = str(count)
        elif self.language.startswith("zh"):
            text = f"{count / 10_000:.1f}万"
        else:
            text = f"{count // 1000}k"
        static = self._text_cache.get(text)
        if static is None:
            static = QStaticText(text)
            static.prepare(QTransform(), self._bubble_font)
            self._text_cache[text] = static
        return static

    def _paint_incidents(self, p: QPainter) -> None:
        clustering = self.clustering()
        s, w, h = self._scale, self.width(), self.height()
        sx = (clustering.x - self._cx) * s + w / 2.0
        sy = h / 2.0 - (clustering.y - self._cy) * s
        count = clustering.count
        # Radii in half pixels, so the sprites come in a few dozen sizes.
        radius = np.where(
            count == 1, MARKER_R, np.minimum(BUBBLE_R[1], BUBBLE_R[0] + 4.0 * np.log10(np.maximum(count, 1)))
        )
        radius = np.round(radius * 2.0) / 2.0
        shown = (sx > -radius) & (sx < w + radius) & (sy > -radius) & (sy < h + radius)
        idx = np.flatnonzero(shown)
        # Blue first, red last (on top); within a level, the bigger bubbles first.
        idx = idx[np.lexsort((-count[idx], -clustering.severity[idx].astype(np.int64)))]
        xs, ys, rs = sx[idx], sy[idx], radius[idx]
        self._hit_clusters = (xs, ys, rs, idx)
        self._hit_clustering = clustering
        white, dark = QColor("#ffffff"), QColor("#202020")
        p.setFont(self._bubble_font)  # the font the counts' static texts were laid out with
        levels, counts = clustering.severity[idx].tolist(), count[idx].tolist()
        for x, y, r, level, n in zip(xs.tolist(), ys.tolist(), rs.tolist(), levels, counts, strict=True):
            key: tuple[object, ...] = ("marker", level) if n == 1 else ("bubble", level, int(r * 2))
            pixmap, half = self._sprite(key)
            p.drawPixmap(QPointF(x - half, y - half), pixmap)
            if n > 1:
                text = self._count_text(n)
                size = text.size()
                p.setPen(dark if level == 3 else white)
                p.drawStaticText(QPointF(x - size.width() / 2.0, y - size.height() / 2.0), text)

    def _paint_selection(self, p: QPainter) -> None:
        if self._selected is None:
            return
        where = self.incidents.position(self._selected)
        if where is None:
            return
        c = self.to_screen(*where)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(style.HALO, 5.0))
        p.drawEllipse(c, 12.0, 12.0)
        p.setPen(QPen(style.SELECTION, 2.5))
        p.drawEllipse(c, 12.0, 12.0)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(style.SELECTION)
        p.drawEllipse(c, 2.5, 2.5)

    def scale_bar(self) -> tuple[float, float, str]:
        """The scale bar: (metres, pixels, label) — a round length about 120 px long."""
        metres = _nice_length(120.0 / self._scale)
        if metres >= 1000:
            text = self.tr("%1 km").replace("%1", f"{metres / 1000:g}")
        else:
            text = self.tr("%1 m").replace("%1", f"{metres:g}")
        return metres, metres * self._scale, text

    def _paint_scale_bar(self, p: QPainter) -> None:
        _, px, text = self.scale_bar()
        p.setFont(self._small_font)
        fm = QFontMetricsF(self._small_font)
        x, y = 14.0, self.height() - 14.0
        plate = QRectF(x - 8, y - fm.height() - 16, max(px, fm.horizontalAdvance(text)) + 16, fm.height() + 24)
        p.setPen(QPen(style.PANEL_BORDER, 1.0))
        p.setBrush(style.PANEL)
        p.drawRoundedRect(plate, 4, 4)
        p.setPen(QPen(style.PANEL_TEXT, 2.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap))
        p.drawLine(QPointF(x, y), QPointF(x + px, y))
        p.drawLine(QPointF(x, y), QPointF(x, y - 6))
        p.drawLine(QPointF(x + px, y), QPointF(x + px, y - 6))
        p.drawText(QRectF(x, y - fm.height() - 7, px + 200, fm.height()), Qt.AlignmentFlag.AlignLeft, text)

    # == hit testing =======================================================================
    def _cluster_at(self, pos: QPointF) -> int | None:
        """Index (in the drawn clustering) of the topmost cluster under ``pos``."""
        if self._hit_clusters is None:
            return None
        xs, ys, rs, idx = self._hit_clusters
        d = np.hypot(xs - pos.x(), ys - pos.y())
        hits = np.flatnonzero(d <= rs + 3.0)
        if not len(hits):
            return None
        return int(idx[hits[-1]])

    def _device_at(self, pos: QPointF) -> str | None:
        if self._hit_devices is None:
            return None
        xs, ys, idx = self._hit_devices
        hits = np.flatnonzero((np.abs(xs - pos.x()) <= 7.0) & (np.abs(ys - pos.y()) <= 7.0))
        return self._device_ids[int(idx[hits[-1]])] if len(hits) else None

    def cluster_at(self, pos: QPointF) -> Cluster | None:
        """The drawn cluster (or single marker) under a widget position."""
        label_ = self._cluster_at(pos)
        if label_ is None or self._hit_clustering is None:
            return None
        return self._hit_clustering.cluster(label_)

    def _click(self, pos: QPointF, modifiers: Qt.KeyboardModifier) -> None:
        label_ = self._cluster_at(pos)
        clustering = self._hit_clustering
        if label_ is not None and clustering is not None:
            if int(clustering.count[label_]) == 1:
                incident_id = int(clustering.members(label_)[0])
                self._selected = incident_id
                self.update()
                self.incidentActivated.emit(incident_id)
                return
            if modifiers & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier):
                self._list_cluster(clustering, label_, pos)
            else:
                self._open_cluster(clustering, label_, pos)
            return
        device = self._device_at(pos)
        if device is not None:
            self.deviceActivated.emit(device)

    def _open_cluster(self, clustering: Clustering, label_: int, pos: QPointF) -> None:
        """Zoom in until the cluster splits; list it when zooming cannot split it."""
        rows = clustering.member_rows(label_)
        xs, ys = self.incidents.x[rows], self.incidents.y[rows]
        extent = max(float(xs.max() - xs.min()), float(ys.max() - ys.min()))
        if self._scale >= MAX_SCALE * 0.999 or extent * MAX_SCALE < 2.0:
            self._list_cluster(clustering, label_, pos)
            return
        # Zoom in at least twice; far enough that the cluster spans a couple of cells.
        target = min(MAX_SCALE, max(self._scale * 2.0, 90.0 / max(extent, 1e-6)))
        target = min(target, self._scale * 16.0)
        self.animate_to(float(clustering.x[label_]), float(clustering.y[label_]), target)

    def animate_to(self, x: float, y: float, scale: float) -> None:
        """Move smoothly to centre (x, y) (projected metres) at ``scale``."""
        self._animation.stop()
        if self.animation_ms <= 0:
            self._set_view(x, y, scale)
            return
        self._animation_from = (self._cx, self._cy, self._scale)
        self._animation_to = (x, y, scale)
        self._animation.setDuration(self.animation_ms)
        self._animation.start()

    def _animate(self, value: object) -> None:
        t = float(value)  # type: ignore[arg-type]
        x0, y0, s0 = self._animation_from
        x1, y1, s1 = self._animation_to
        # Scale moves geometrically, the centre so the screen moves evenly.
        scale = s0 * (s1 / s0) ** t
        k = (1.0 / s0 - 1.0 / scale) / (1.0 / s0 - 1.0 / s1) if s1 != s0 else t
        self._set_view(x0 + (x1 - x0) * k, y0 + (y1 - y0) * k, scale)

    def is_animating(self) -> bool:
        return self._animation.state() == QVariantAnimation.State.Running

    def _list_cluster(self, clustering: Clustering, label_: int, pos: QPointF) -> None:
        """Emit the cluster's ids and pop up a list of them; choosing one activates it."""
        ids = clustering.members(label_)
        rows = clustering.member_rows(label_)
        levels = self.incidents.severity[rows]
        order = np.lexsort((-ids, levels))
        ids_sorted, levels_sorted = ids[order], levels[order]
        self.clusterListed.emit([int(i) for i in ids_sorted.tolist()])
        if self.list_menu is not None:
            self.list_menu.deleteLater()
        menu = QMenu(self)
        title = menu.addAction(self.tr("%n incidents here", "", len(ids)))
        title.setEnabled(False)
        menu.addSeparator()
        for incident_id, level in zip(ids_sorted[:LIST_MAX].tolist(), levels_sorted[:LIST_MAX].tolist(), strict=True):
            action = menu.addAction(f"#{incident_id}  ·  {self.names.severity(int(level))}")
            action.setIcon(self._swatch(int(level)))
            action.setData(int(incident_id))
            action.triggered.connect(lambda _=False, i=int(incident_id): self._activate(i))
        if len(ids) > LIST_MAX:
            more = menu.addAction(self.tr("… and %n more (see the board)", "", len(ids) - LIST_MAX))
            more.setEnabled(False)
        self.list_menu = menu
        menu.popup(self.mapToGlobal(pos.toPoint()))

    def _swatch(self, level: int) -> QIcon:
        icon = self._swatches.get(level)
        if icon is not None:
            return icon
        pixmap = QPixmap(12, 12)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(style.SEVERITY.get(level, style.SEVERITY[4]))
        painter.drawEllipse(1, 1, 10, 10)
        painter.end()
        icon = self._swatches[level] = QIcon(pixmap)
        return icon

    def _activate(self, incident_id: int) -> None:
        self._selected = incident_id
        self.update()
        self.incidentActivated.emit(incident_id)

    # == events ============================================================================
    def resizeEvent(self, event: QResizeEvent) -> None:
        if not self._placed:
            # Until the operator or the owner moves it, the map shows the whole district.
            self._fit(placed=False)
        self._place_overlays()
        super().resizeEvent(event)

    def showEvent(self, event: QShowEvent) -> None:
        self._place_overlays()
        super().showEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._animation.stop()
            self._press = event.position()
            self._press_view = (self._cx, self._cy)
            self._dragging = False
            # A press on a camera drags the camera (to the video wall), not the map.
            self._press_camera = self._camera_at(event.position())
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        if self._press is not None and self._press_camera is not None and event.buttons() & Qt.MouseButton.LeftButton:
            delta = pos - self._press
            if abs(delta.x()) + abs(delta.y()) >= QApplication.startDragDistance():
                camera, self._press, self._press_camera = self._press_camera, None, None
                self._drag_camera(camera)
        elif self._press is not None and self._press_view is not None and event.buttons() & Qt.MouseButton.LeftButton:
            delta = pos - self._press
            if self._dragging or abs(delta.x()) + abs(delta.y()) > DRAG_PX:
                self._dragging = True
                self.setCursor(Qt.CursorShape.ClosedHandCursor)
                cx, cy = self._press_view
                self._set_view(cx - delta.x() / self._scale, cy + delta.y() / self._scale, self._scale)
        self._track(pos)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._press is not None:
            if not self._dragging:
                self._click(event.position(), event.modifiers())
            self._press = None
            self._dragging = False
            self.unsetCursor()
        self._press_camera = None
        super().mouseReleaseEvent(event)

    def _camera_at(self, pos: QPointF) -> str | None:
        # Incidents are drawn over devices, and a click picks them first: so does a drag.
        if self._cluster_at(pos) is not None:
            return None
        device = self._device_at(pos)
        if device is None or self._devices[device].kind is not DeviceKind.CAMERA:
            return None
        return device

    def camera_mime(self, device_id: str) -> QMimeData:
        """What dragging camera ``device_id`` off the map carries."""
        device = self._devices[device_id]
        mime = QMimeData()
        mime.setData(CAMERA_MIME, camera_payload(device.id, device.name))
        mime.setText(device.name)
        return mime

    def _drag_camera(self, device_id: str) -> None:
        """Drag a camera off the map; the video wall takes it. Runs until the drop."""
        drag = QDrag(self)
        drag.setMimeData(self.camera_mime(device_id))
        state = style.STATES.index(self._devices[device_id].state)
        pixmap, half = self._sprite(("device", True, state))
        drag.setPixmap(pixmap)
        drag.setHotSpot(QPoint(round(half), round(half)))
        drag.exec(Qt.DropAction.CopyAction)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.zoom_by(2.0, event.position())

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y()
        if not delta:
            delta = event.pixelDelta().y()
        if delta:
            self.zoom_by(2.0 ** (delta / 240.0), event.position())
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        step_x, step_y = self.width() / 5.0, self.height() / 5.0
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom_by(2.0)
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom_by(0.5)
        elif key == Qt.Key.Key_Left:
            self.pan_by(step_x, 0)
        elif key == Qt.Key.Key_Right:
            self.pan_by(-step_x, 0)
        elif key == Qt.Key.Key_Up:
            self.pan_by(0, step_y)
        elif key == Qt.Key.Key_Down:
            self.pan_by(0, -step_y)
        elif key == Qt.Key.Key_Home:
            self.fit_district()
        else:
            super().keyPressEvent(event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        pos = QPointF(event.pos())
        label_ = self._cluster_at(pos)
        clustering = self._hit_clustering
        if self.context_menu is not None:
            self.context_menu.deleteLater()
        menu = QMenu(self)
        if label_ is not None and clustering is not None:
            if int(clustering.count[label_]) == 1:
                incident_id = int(clustering.members(label_)[0])
                menu.addAction(self.tr("Select incident #%1").replace("%1", str(incident_id))).triggered.connect(
                    lambda: self._activate(incident_id)
                )
            else:
                menu.addAction(self.tr("Zoom in")).triggered.connect(
                    lambda: self._open_cluster(clustering, label_, pos)
                )
                menu.addAction(self.tr("List incidents")).triggered.connect(
                    lambda: self._list_cluster(clustering, label_, pos)
                )
        else:
            device = self._device_at(pos)
            if device is not None:
                menu.addAction(self.tr("Show device %1").replace("%1", device)).triggered.connect(
                    lambda: self.deviceActivated.emit(device)
                )
        menu.addAction(self.tr("Whole district")).triggered.connect(self.fit_district)
        self.context_menu = menu
        menu.popup(event.globalPos())

    def leaveEvent(self, event: QEvent) -> None:
        self._cursor_lonlat = None
        self._cursor_cell = ""
        self._show_coordinates()
        super().leaveEvent(event)

    def event(self, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd, QEvent.Type.TouchCancel):
            assert isinstance(event, QTouchEvent)
            self._touch(event)
            return True
        if kind == QEvent.Type.NativeGesture:
            assert isinstance(event, QNativeGestureEvent)
            if event.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:
                self.zoom_by(1.0 + event.value(), event.position())
                event.accept()
                return True
        if kind == QEvent.Type.ToolTip:
            assert isinstance(event, QHelpEvent)
            self._tooltip(event)
            return True
        return super().event(event)

    def _touch(self, event: QTouchEvent) -> None:
        """One finger pans (a tap clicks); two fingers pinch: the map point under the
        fingers' midpoint stays under it while the distance between them sets the zoom."""
        event.accept()
        kind = event.type()
        points = [pt for pt in event.points() if pt.state() != pt.State.Released]
        if kind == QEvent.Type.TouchBegin:
            self._animation.stop()
            self._pinch = None
            self._touch_moved = False
            self._touch_pinched = False
            self._touch_start = points[0].position() if points else None
            self._press_view = (self._cx, self._cy)
        if kind in (QEvent.Type.TouchEnd, QEvent.Type.TouchCancel):
            if (
                kind == QEvent.Type.TouchEnd
                and not self._touch_moved
                and not self._touch_pinched
                and self._touch_start is not None
            ):
                self._click(self._touch_start, Qt.KeyboardModifier.NoModifier)
            self._pinch = None
            self._touch_start = None
            return
        if len(points) >= 2:
            a, b = points[0], points[1]
            pa, pb = a.position(), b.position()
            mid = (pa + pb) / 2.0
            distance = max(math.hypot(pa.x() - pb.x(), pa.y() - pb.y()), 1.0)
            ids = (a.id(), b.id())
            if self._pinch is None or self._pinch[4] != ids:
                wx, wy = self._to_world(mid)
                self._pinch = (distance, self._scale, wx, wy, ids)
                self._touch_pinched = True
                return
            d0, s0, wx, wy, _ = self._pinch
            scale = min(max(s0 * distance / d0, self.min_scale()), MAX_SCALE)
            dx, dy = mid.x() - self.width() / 2.0, mid.y() - self.height() / 2.0
            self._set_view(wx - dx / scale, wy + dy / scale, scale)
            return
        if len(points) == 1 and not self._touch_pinched and self._touch_start is not None:
            delta = points[0].position() - self._touch_start
            if self._touch_moved or abs(delta.x()) + abs(delta.y()) > 2 * DRAG_PX:
                self._touch_moved = True
                assert self._press_view is not None
                cx, cy = self._press_view
                self._set_view(cx - delta.x() / self._scale, cy + delta.y() / self._scale, self._scale)

    def _tooltip(self, event: QHelpEvent) -> None:
        pos = QPointF(event.pos())
        label_ = self._cluster_at(pos)
        text = ""
        if label_ is not None and self._hit_clustering is not None:
            clustering = self._hit_clustering
            n = int(clustering.count[label_])
            if n == 1:
                text = self.tr("Incident #%1").replace("%1", str(int(clustering.members(label_)[0])))
            else:
                levels = clustering.levels[label_]
                parts = [f"{self.names.severity(k + 1)} {int(c)}" for k, c in enumerate(levels.tolist()) if c]
                text = self.tr("%n incidents", "", n) + " (" + ", ".join(parts) + ")"
        else:
            device = self._device_at(pos)
            if device is not None:
                d = self._devices[device]
                text = f"{d.name}\n{d.id} · {d.type}"
        if text:
            QToolTip.showText(event.globalPos(), text, self)
        else:
            QToolTip.hideText()
            event.ignore()

    # == cursor readout ====================================================================
    def _track(self, pos: QPointF) -> None:
        self._cursor_lonlat = self.to_lonlat(pos)
        self._show_coordinates()
        if not self._cell_timer.isActive():
            self._cell_timer.start()

    def _update_cell(self) -> None:
        if self._cursor_lonlat is None:
            return
        cell = self.district.cell_code_at(*self._cursor_lonlat)
        if cell != self._cursor_cell:
            self._cursor_cell = cell
            self._show_coordinates()

    def coordinate_text(self) -> str:
        """The cursor readout: WGS84 lon/lat and the grid cell under the cursor."""
        if self._cursor_lonlat is None:
            return self.tr("WGS84 — move the pointer over the map")
        lon, lat = self._cursor_lonlat
        text = f"{lon:.6f}, {lat:.6f}"
        if self._cursor_cell:
            text += "   " + self.tr("Grid cell %1").replace("%1", self._cursor_cell)
        return text

    def _show_coordinates(self) -> None:
        self.coordinates.setText(self.coordinate_text())
        self.info.adjustSize()
        self.info.move(self.width() - self.info.width() - 8, self.height() - self.info.height() - 8)
