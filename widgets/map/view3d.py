"""The district in 3D: the boundary extruded as a low slab, street boundaries and names on top,
the neighbouring districts as darker ground, and one heat column per grid cell whose height and
colour say how many fire-hazard reports and fires it had over the chosen period (scenario 4).

The view draws with VTK. On a desktop (and under Xvfb) the scene renders into a
``QVTKRenderWindowInteractor``; on Qt's ``offscreen`` platform, where that widget has no window
to draw into, it renders into an offscreen VTK window (OSMesa when available) and shows the
captured frame in a plain widget. Either way the mouse is handled here, not by a VTK interactor
style, so orbit (left drag), pan (right or middle drag), zoom (wheel) and picking (click) behave
the same in both modes.

VTK is imported by this module only; importing :mod:`widgets` or :mod:`widgets.map` does not load
it.
"""

from __future__ import annotations

import ctypes.util
import glob
import math
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import shapely

# Imported for their side effect: they register VTK's implementations (the interactor's default
# style, FreeType text, the OpenGL render window and mappers) with its object factories.
import vtkmodules.vtkInteractionStyle as _vtk_style  # noqa: F401
import vtkmodules.vtkRenderingFreeType as _vtk_text  # noqa: F401
import vtkmodules.vtkRenderingOpenGL2 as _vtk_gl  # noqa: F401
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QGuiApplication,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QShowEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)
from shapely.geometry.base import BaseGeometry
from vtkmodules.util import numpy_support
from vtkmodules.vtkCommonCore import VTK_FONT_FILE, vtkLookupTable, vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkPolyData
from vtkmodules.vtkRenderingAnnotation import vtkScalarBarActor
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkBillboardTextActor3D,
    vtkCellPicker,
    vtkCoordinate,
    vtkLight,
    vtkPolyDataMapper,
    vtkRenderer,
    vtkRenderWindow,
    vtkTextActor,
    vtkTextProperty,
    vtkWindowToImageFilter,
)

from app.domain.district import Area, DistrictMap
from widgets.map.projection import Projection

#: Height of the tallest column, as a fraction of the district's larger horizontal extent.
TALLEST_FRACTION: Final = 0.22
#: Thickness of the district slab, as a fraction of the district's extent.
SLAB_FRACTION: Final = 0.006
#: A column's footprint, as a fraction of the grid's cell size.
FOOTPRINT_FRACTION: Final = 0.8
#: The neighbours are drawn this far around the district (fraction of its extent).
GROUND_MARGIN: Final = 0.35
#: Faces per column (top and four sides; the bottom is never seen): cell id // this = column.
FACES_PER_COLUMN: Final = 5
#: A press and release closer than this (pixels) is a click, not a drag.
CLICK_SLOP_PX: Final = 4
#: Degrees of orbit per pixel dragged, and the elevation limits (degrees above the horizon).
ORBIT_DEG_PER_PX: Final = 0.4
ELEVATION_LIMITS: Final = (8.0, 89.0)
#: Camera distance change per wheel notch, and limits relative to the reset distance.
ZOOM_PER_NOTCH: Final = 0.85
ZOOM_LIMITS: Final = (0.05, 4.0)
#: The colour ramp of the columns, low to high: yellow, orange, red.
RAMP: Final = ((1.0, 0.88, 0.30), (1.0, 0.55, 0.10), (0.84, 0.10, 0.11))
HIGHLIGHT_RGB: Final = (0.0, 0.9, 1.0)
BACKGROUND_RGB: Final = ((0.05, 0.07, 0.10), (0.15, 0.19, 0.26))
SLAB_RGB: Final = (0.36, 0.43, 0.52)
GROUND_RGB: Final = (0.16, 0.18, 0.21)
STREET_LINE_RGB: Final = (0.85, 0.90, 0.96)

#: Period choices: key, seconds back from now (None: since local midnight).
PERIODS: Final[tuple[tuple[str, float | None], ...]] = (
    ("today", None),
    ("7d", 7 * 86400.0),
    ("30d", 30 * 86400.0),
    ("365d", 365 * 86400.0),
)
DEFAULT_PERIOD: Final = "30d"

#: Font families that carry Chinese glyphs, tried in order for VTK's own text.
CJK_FAMILIES: Final = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Noto Serif CJK SC")
#: Single-face Simplified Chinese fonts, preferred: VTK's FreeType reads only the first face of a
#: font collection (.ttc), which for Noto Sans CJK is the Japanese one (its glyphs for the
#: characters Chinese and Japanese share are drawn the Japanese way).
CJK_SC_FILES: Final = (
    "/usr/share/fonts/**/NotoSansCJKsc-Regular.otf",
    "/usr/share/fonts/**/NotoSansSC-Regular.otf",
    "/usr/share/fonts/**/SourceHanSansSC-Regular.otf",
)
#: Where CJK fonts live when fontconfig is not there to ask (Windows, macOS, bare Linux).
CJK_FONT_GLOBS: Final = (
    "/usr/share/fonts/**/NotoSansCJK*-Regular.tt[cf]",
    "/usr/share/fonts/**/NotoSansCJK*.tt[cf]",
    "/usr/share/fonts/**/SourceHanSans*.tt[cf]",
    "/usr/share/fonts/**/wqy-microhei.tt[cf]",
    "C:/Windows/Fonts/msyh.tt[cf]",
    "/System/Library/Fonts/PingFang.ttc",
    "/System/Library/Fonts/STHeiti Medium.ttc",
)

FloatArray = npt.NDArray[np.float64]

# VTK's numpy bridge is untyped.
numpy_to_vtk: Callable[..., Any] = numpy_support.numpy_to_vtk
numpy_to_vtkIdTypeArray: Callable[..., Any] = numpy_support.numpy_to_vtkIdTypeArray
vtk_to_numpy: Callable[..., npt.NDArray[Any]] = numpy_support.vtk_to_numpy


@cache
def cjk_font_file() -> str | None:
    """A font file with Chinese glyphs for VTK's FreeType text, or None (text then uses VTK's
    built-in Arial, and Chinese shows as boxes)."""
    for pattern in CJK_SC_FILES:
        hits = sorted(glob.glob(pattern, recursive=True))
        if hits:
            return hits[0]
    fc_match = shutil.which("fc-match")
    if fc_match:
        for family in CJK_FAMILIES:
            try:
                out = subprocess.run(
                    [fc_match, "-f", "%{family}\t%{file}", family],
                    capture_output=True,
                    text=True,
                    timeout=5,
                    check=False,
                ).stdout
            except (OSError, subprocess.SubprocessError):
                break
            found_families, _, path = out.partition("\t")
            # fc-match always answers, with its best substitute; only the family asked for has
            # the glyphs.
            if family in found_families.split(",") and path and os.path.exists(path):
                return path
    for pattern in CJK_FONT_GLOBS:
        hits = sorted(glob.glob(pattern, recursive=True))
        if hits:
            return hits[0]
    return None


def _prefer_osmesa() -> None:
    """On Qt's offscreen platform there is no display: render through OSMesa when it is
    installed (VTK reads the variable when it creates a render window)."""
    if ctypes.util.find_library("OSMesa"):
        os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkOSOpenGLRenderWindow")


def _set_font(prop: vtkTextProperty, size: int, rgb: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> None:
    path = cjk_font_file()
    if path:
        prop.SetFontFamily(VTK_FONT_FILE)
        prop.SetFontFile(path)
    prop.SetFontSize(size)
    prop.SetColor(*rgb)


def _ramp_lut(lo: float, hi: float) -> vtkLookupTable:
    lut = vtkLookupTable()
    n = 256
    lut.SetNumberOfTableValues(n)
    stops = np.asarray(RAMP)
    at = np.linspace(0.0, 1.0, len(stops))
    for i in range(n):
        t = i / (n - 1)
        r, g, b = (float(np.interp(t, at, stops[:, k])) for k in range(3))
        lut.SetTableValue(i, r, g, b, 1.0)
    lut.SetRange(lo, hi)
    lut.Build()
    return lut


def _polydata(
    points: FloatArray, offsets: npt.NDArray[np.int64], connectivity: npt.NDArray[np.int64], lines: bool = False
) -> vtkPolyData:
    """Polydata from an (n, 3) point array and cells given as offsets + connectivity."""
    pts = vtkPoints()
    pts.SetData(numpy_to_vtk(np.ascontiguousarray(points, dtype=np.float64), deep=True))
    cells = vtkCellArray()
    cells.SetData(
        numpy_to_vtkIdTypeArray(np.ascontiguousarray(offsets, dtype=np.int64), deep=True),
        numpy_to_vtkIdTypeArray(np.ascontiguousarray(connectivity, dtype=np.int64), deep=True),
    )
    poly = vtkPolyData()
    poly.SetPoints(pts)
    if lines:
        poly.SetLines(cells)
    else:
        poly.SetPolys(cells)
    return poly


def _actor(poly: vtkPolyData, rgb: tuple[float, float, float] | None = None) -> tuple[vtkActor, vtkPolyDataMapper]:
    mapper = vtkPolyDataMapper()
    mapper.SetInputData(poly)
    actor = vtkActor()
    actor.SetMapper(mapper)
    if rgb is not None:
        mapper.ScalarVisibilityOff()
        actor.GetProperty().SetColor(*rgb)
    return actor, mapper


def _polygons(geom: BaseGeometry) -> list[shapely.Polygon]:
    return [p for p in shapely.get_parts(geom) if isinstance(p, shapely.Polygon) and not p.is_empty]


def _triangles(geom: BaseGeometry, z: float) -> tuple[FloatArray, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """A flat, upward-facing triangulation of the polygon(s) at height ``z``."""
    tris = shapely.get_parts(shapely.constrained_delaunay_triangles(geom))
    if len(tris) == 0:
        return np.zeros((0, 3)), np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    xy = shapely.get_coordinates(tris).reshape(len(tris), 4, 2)[:, :3, :]
    # Counter-clockwise seen from above, so the faces point up.
    cross = (xy[:, 1, 0] - xy[:, 0, 0]) * (xy[:, 2, 1] - xy[:, 0, 1]) - (xy[:, 1, 1] - xy[:, 0, 1]) * (
        xy[:, 2, 0] - xy[:, 0, 0]
    )
    xy[cross < 0] = xy[cross < 0][:, ::-1, :]
    pts = np.concatenate([xy.reshape(-1, 2), np.full((len(tris) * 3, 1), z)], axis=1)
    return pts, np.arange(0, len(tris) * 3 + 1, 3, dtype=np.int64), np.arange(len(tris) * 3, dtype=np.int64)


def _walls(geom: BaseGeometry, z0: float, z1: float) -> tuple[FloatArray, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Vertical quads along every ring of the polygon(s), from ``z0`` to ``z1``."""
    chunks: list[FloatArray] = []
    for poly in _polygons(geom):
        for ring in (poly.exterior, *poly.interiors):
            xy = np.asarray(ring.coords)[:, :2]
            a, b = xy[:-1], xy[1:]
            quad = np.stack(
                [
                    np.column_stack([a, np.full(len(a), z0)]),
                    np.column_stack([b, np.full(len(a), z0)]),
                    np.column_stack([b, np.full(len(a), z1)]),
                    np.column_stack([a, np.full(len(a), z1)]),
                ],
                axis=1,
            )
            chunks.append(quad.reshape(-1, 3))
    pts = np.concatenate(chunks) if chunks else np.zeros((0, 3))
    n = len(pts) // 4
    return pts, np.arange(0, n * 4 + 1, 4, dtype=np.int64), np.arange(n * 4, dtype=np.int64)


def _rings(geoms: Sequence[BaseGeometry], z: float) -> tuple[FloatArray, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Every polygon ring as a closed polyline at height ``z``."""
    chunks: list[FloatArray] = []
    sizes: list[int] = []
    for geom in geoms:
        for poly in _polygons(geom):
            for ring in (poly.exterior, *poly.interiors):
                xy = np.asarray(ring.coords)[:, :2]
                chunks.append(np.column_stack([xy, np.full(len(xy), z)]))
                sizes.append(len(xy))
    pts = np.concatenate(chunks) if chunks else np.zeros((0, 3))
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return pts, offsets, np.arange(len(pts), dtype=np.int64)


def _merge(
    *parts: tuple[FloatArray, npt.NDArray[np.int64], npt.NDArray[np.int64]],
) -> tuple[FloatArray, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    points: list[FloatArray] = []
    offsets: list[npt.NDArray[np.int64]] = [np.zeros(1, dtype=np.int64)]
    conn: list[npt.NDArray[np.int64]] = []
    base_pt = 0
    base_conn = 0
    for pts, off, cn in parts:
        points.append(pts)
        offsets.append(off[1:] + base_conn)
        conn.append(cn + base_pt)
        base_pt += len(pts)
        base_conn += len(cn)
    return np.concatenate(points), np.concatenate(offsets), np.concatenate(conn)


def _boxes(
    centres: FloatArray, half: float, z0: float, heights: FloatArray
) -> tuple[FloatArray, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Open-bottomed boxes (top and four sides, :data:`FACES_PER_COLUMN` quads each), one per
    centre, all in one set of arrays so thousands of columns are one actor."""
    n = len(centres)
    corners = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]) * half
    pts = np.empty((n, 8, 3))
    pts[:, :4, :2] = centres[:, None, :2] + corners[None]
    pts[:, 4:, :2] = pts[:, :4, :2]
    pts[:, :4, 2] = z0
    pts[:, 4:, 2] = (z0 + heights)[:, None]
    faces = np.array([[4, 5, 6, 7], [0, 1, 5, 4], [1, 2, 6, 5], [2, 3, 7, 6], [3, 0, 4, 7]], dtype=np.int64)
    conn = (faces[None] + 8 * np.arange(n, dtype=np.int64)[:, None, None]).reshape(-1)
    offsets = np.arange(0, n * FACES_PER_COLUMN * 4 + 1, 4, dtype=np.int64)
    return pts.reshape(-1, 3), offsets, conn


class _ImageCanvas(QWidget):
    """Shows the frames of an offscreen VTK render window and keeps its size in step."""

    def __init__(self, render_window: vtkRenderWindow, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._render_window = render_window
        self._image = QImage()
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 180)

    def set_image(self, image: QImage) -> None:
        self._image = image
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        if self._image.isNull():
            painter.fillRect(self.rect(), QColor.fromRgbF(*BACKGROUND_RGB[0]))
        else:
            painter.drawImage(self.rect(), self._image)
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:
        ratio = self.devicePixelRatioF()
        self._render_window.SetSize(max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio)))
        super().resizeEvent(event)


class District3DView(QWidget):
    """The 3D fire-safety view of the district.

    Attributes down: :meth:`set_columns` (grid cell code → incident ids, for the period shown),
    :meth:`set_period_label`, :meth:`select_column`. Messages up: :attr:`periodChanged` (start,
    end in epoch seconds, when the operator picks a period) and :attr:`columnPicked` (cell code
    and its incident ids, when the operator clicks a column).

    Call :meth:`shutdown` (``close()`` does) before the widget goes away: it releases the VTK
    render window while its native window still exists.
    """

    periodChanged = Signal(float, float)
    columnPicked = Signal(str, list)

    def __init__(self, district: DistrictMap, language: str = "zh", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.district = district
        self.language = language
        self._closed = False
        self._columns: dict[str, list[int]] = {}
        self._column_codes: list[str] = []
        self._column_index: dict[str, int] = {}
        self._column_tops: FloatArray = np.zeros((0, 3))
        self._selected: str | None = None
        self._period_label: str | None = None
        self._press: tuple[QPointF, Qt.MouseButton] | None = None
        self._last: QPointF | None = None
        self._dragged = False
        # The camera, as an orbit around a focal point (set by reset_view).
        self._focus: FloatArray = np.zeros(3)
        self._azimuth = 0.0
        self._elevation = 50.0
        self._distance = 1.0
        self._home_distance = 1.0

        self._build_frame(district)
        self._centres = self._cell_centres(district.cells)

        # --- the toolbar ----------------------------------------------------------------
        self._period_box = QComboBox()
        names = {
            "today": self.tr("Today"),
            "7d": self.tr("Last 7 days"),
            "30d": self.tr("Last 30 days"),
            "365d": self.tr("Last year"),
        }
        for key, _ in PERIODS:
            self._period_box.addItem(names[key], key)
        self._period_box.setCurrentIndex([key for key, _ in PERIODS].index(DEFAULT_PERIOD))
        self._period_box.currentIndexChanged.connect(self._on_period)
        self._reset_button = QPushButton(self.tr("Reset view"))
        self._reset_button.clicked.connect(self.reset_view)
        self._summary = QLabel()
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 4, 4, 4)
        bar.addWidget(QLabel(self.tr("Period")))
        bar.addWidget(self._period_box)
        bar.addWidget(self._summary, 1)
        bar.addWidget(self._reset_button)

        # --- the canvas -----------------------------------------------------------------
        if QGuiApplication.platformName() in ("offscreen", "minimal"):
            _prefer_osmesa()
            self._render_window = vtkRenderWindow()
            self._render_window.SetOffScreenRendering(1)
            self._image_canvas: _ImageCanvas | None = _ImageCanvas(self._render_window)
            self._canvas: QWidget = self._image_canvas
            self._vtk_widget: Any = None
        else:
            import vtkmodules.qt

            vtkmodules.qt.PyQtImpl = "PySide6"
            from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor

            self._image_canvas = None
            widget_class: Any = QVTKRenderWindowInteractor
            self._vtk_widget = widget_class(self)
            self._render_window = self._vtk_widget.GetRenderWindow()
            self._canvas = self._vtk_widget
        self._canvas.setToolTip(
            self.tr("Drag to orbit, right-drag to pan, wheel to zoom; click a column to list its incidents")
        )
        self._canvas.installEventFilter(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self._canvas, 1)

        # --- the scene ------------------------------------------------------------------
        self._renderer = vtkRenderer()
        self._renderer.GradientBackgroundOn()
        self._renderer.SetBackground(*BACKGROUND_RGB[0])
        self._renderer.SetBackground2(*BACKGROUND_RGB[1])
        # No FXAA: under OSMesa it turns the whole 3D scene black.
        self._render_window.AddRenderer(self._renderer)
        # The street names go on a layer above the scene, seen through the same camera, so a
        # column standing in front of a name does not cut it in two.
        self._label_layer = vtkRenderer()
        self._label_layer.SetLayer(1)
        self._label_layer.InteractiveOff()
        self._label_layer.SetActiveCamera(self._renderer.GetActiveCamera())
        self._render_window.SetNumberOfLayers(2)
        self._render_window.AddRenderer(self._label_layer)
        self._add_lights()
        self._build_scene(district)
        self._build_overlays()

        self._picker = vtkCellPicker()
        self._picker.SetTolerance(0.0005)
        self._picker.PickFromListOn()
        self._picker.AddPickList(self._columns_actor)

        if self._vtk_widget is not None:
            # Our event filter takes the mouse; no VTK interactor style acts on keys either.
            self._vtk_widget.Initialize()
            self._vtk_widget.SetInteractorStyle(None)

        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.timeout.connect(self._render_now)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

        self.reset_view()
        self.set_columns({})

    # --- public API ---------------------------------------------------------------------

    def set_columns(self, columns: Mapping[str, Sequence[int]]) -> None:
        """Show one column per grid cell: ``columns`` maps a cell code to the ids of its
        incidents. Codes that are not cells of the district, and empty cells, are left out."""
        kept = {code: [int(i) for i in ids] for code, ids in columns.items() if len(ids) and code in self._centres}
        self._columns = kept
        self._column_codes = sorted(kept)
        self._column_index = {code: i for i, code in enumerate(self._column_codes)}
        counts = np.array([len(kept[c]) for c in self._column_codes], dtype=np.float64)
        tallest = float(counts.max()) if len(counts) else 1.0
        heights = counts / tallest * self._tallest_m
        centres = np.array([self._centres[c] for c in self._column_codes]) if self._column_codes else np.zeros((0, 2))
        pts, offsets, conn = _boxes(centres, self._half, self._slab_top, heights)
        poly = _polydata(pts, offsets, conn)
        scalars = numpy_to_vtk(np.repeat(counts, FACES_PER_COLUMN), deep=True)
        scalars.SetName("count")
        poly.GetCellData().SetScalars(scalars)
        self._columns_mapper.SetInputData(poly)
        lo, hi = 1.0, max(2.0, tallest)
        self._lut.SetRange(lo, hi)
        self._columns_mapper.SetScalarRange(lo, hi)
        self._scalar_bar.SetNumberOfLabels(min(5, int(hi - lo) + 1))
        self._column_tops = np.column_stack([centres, self._slab_top + heights]) if len(centres) else np.zeros((0, 3))
        self.select_column(self._selected if self._selected in kept else None)

    def uses_native_widget(self) -> bool:
        """Whether the view draws through VTK's own Qt widget (on a display) rather than
        offscreen into an image."""
        return self._vtk_widget is not None

    @property
    def canvas(self) -> QWidget:
        """The widget the scene is drawn in: :meth:`pick_at` and :meth:`screen_position` use its
        coordinates, and it takes the mouse."""
        return self._canvas

    def columns(self) -> dict[str, list[int]]:
        """The columns shown: cell code → incident ids."""
        return {code: list(ids) for code, ids in self._columns.items()}

    def period(self) -> tuple[float, float]:
        """The chosen period as (start, end) epoch seconds; the end is now."""
        end = time.time()
        back = dict(PERIODS)[self._period_box.currentData()]
        if back is None:
            midnight = time.localtime(end)
            start = time.mktime((midnight.tm_year, midnight.tm_mon, midnight.tm_mday, 0, 0, 0, 0, 0, -1))
        else:
            start = end - back
        return start, end

    def set_period_label(self, text: str) -> None:
        """Name the period in the title (by default the period box's choice)."""
        self._period_label = text
        self._update_title()
        self.request_render()

    def select_column(self, code: str | None) -> None:
        """Highlight the column of a cell (None: none)."""
        self._selected = code if code in self._columns else None
        if self._selected is None:
            self._highlight_actor.VisibilityOff()
            self._summary.setText(
                self.tr("%1 cells, %2 reports")
                .replace("%1", str(len(self._columns)))
                .replace("%2", str(sum(len(ids) for ids in self._columns.values())))
            )
        else:
            top = self._column_tops[self._column_index[self._selected]]
            height = top[2] - self._slab_top
            pts, offsets, conn = _boxes(
                top[None, :2], self._half * 1.35, self._slab_top, np.array([height + self._tallest_m * 0.01])
            )
            self._highlight_mapper.SetInputData(_polydata(pts, offsets, conn))
            self._highlight_actor.VisibilityOn()
            count = len(self._columns[self._selected])
            self._summary.setText(
                self.tr("Cell %1: %2 reports").replace("%1", self._selected).replace("%2", str(count))
            )
        self.request_render()

    def selected_column(self) -> str | None:
        return self._selected

    def pick_at(self, x: int, y: int) -> str | None:
        """Pick the column under a point of the 3D canvas (widget pixels, origin top left);
        highlights it and emits :attr:`columnPicked`. Returns its cell code, or None."""
        if self._closed or not self._column_codes:
            return None
        dx, dy = self._to_display(x, y)
        if not self._picker.Pick(dx, dy, 0.0, self._renderer) or self._picker.GetActor() is not self._columns_actor:
            return None
        cell_id = self._picker.GetCellId()
        if cell_id < 0:
            return None
        code = self._column_codes[cell_id // FACES_PER_COLUMN]
        self.select_column(code)
        self.columnPicked.emit(code, list(self._columns[code]))
        return code

    def screen_position(self, code: str) -> QPoint | None:
        """Where the top of a cell's column appears on the 3D canvas (widget pixels)."""
        if code not in self._columns:
            return None
        top = self._column_tops[self._column_index[code]]
        coordinate = vtkCoordinate()
        coordinate.SetCoordinateSystemToWorld()
        coordinate.SetValue(float(top[0]), float(top[1]), float(top[2]))
        dx, dy = coordinate.GetComputedDoubleDisplayValue(self._renderer)
        return self._from_display(dx, dy)

    def orbit(self, d_azimuth: float, d_elevation: float) -> None:
        """Turn the camera around the focal point (degrees)."""
        self._azimuth = (self._azimuth + d_azimuth) % 360.0
        self._elevation = min(max(self._elevation + d_elevation, ELEVATION_LIMITS[0]), ELEVATION_LIMITS[1])
        self._apply_camera()

    def zoom(self, factor: float) -> None:
        """Move the camera ``factor`` times closer (>1) or farther (<1)."""
        lo, hi = ZOOM_LIMITS
        self._distance = min(max(self._distance / factor, lo * self._home_distance), hi * self._home_distance)
        self._apply_camera()

    def pan(self, dx_px: float, dy_px: float) -> None:
        """Slide the view by screen pixels."""
        camera = self._renderer.GetActiveCamera()
        height = max(1, self._canvas.height())
        metres_per_px = 2.0 * self._distance * math.tan(math.radians(camera.GetViewAngle() / 2.0)) / height
        right = np.cross(np.array(camera.GetDirectionOfProjection()), np.array([0.0, 0.0, 1.0]))
        right /= max(float(np.linalg.norm(right)), 1e-9)
        forward = np.cross(np.array([0.0, 0.0, 1.0]), right)
        self._focus = self._focus - right * dx_px * metres_per_px + forward * dy_px * metres_per_px
        self._apply_camera()

    def reset_view(self) -> None:
        """Look at the whole district from the south, from above at an angle."""
        self._focus = np.array([0.0, 0.0, self._slab_top])
        self._azimuth = 0.0
        self._elevation = 50.0
        camera = self._renderer.GetActiveCamera()
        half_angle = math.radians(camera.GetViewAngle() / 2.0)
        self._home_distance = 0.52 * self._extent / math.tan(half_angle)
        self._distance = self._home_distance
        self._apply_camera()

    def camera_position(self) -> tuple[float, float, float]:
        x, y, z = self._renderer.GetActiveCamera().GetPosition()
        return float(x), float(y), float(z)

    def render_image(self) -> QImage:
        """The current frame, rendered now (for screenshots and tests)."""
        if self._closed:
            return QImage()
        self._render_window.Render()
        grab = vtkWindowToImageFilter()
        grab.SetInput(self._render_window)
        grab.SetInputBufferTypeToRGB()
        grab.ReadFrontBufferOff()
        grab.ShouldRerenderOff()
        grab.Update()
        data = grab.GetOutput()
        width, height, _ = data.GetDimensions()
        pixels = vtk_to_numpy(data.GetPointData().GetScalars()).reshape(height, width, -1)
        # VTK's rows run bottom to top.
        rgb = np.ascontiguousarray(pixels[::-1, :, :3], dtype=np.uint8)
        image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
        image.setDevicePixelRatio(max(1.0, width / max(1, self._canvas.width())))
        return image

    def request_render(self) -> None:
        """Render on the next turn of the event loop (several requests make one frame)."""
        if not self._closed and not self._render_timer.isActive():
            self._render_timer.start(0)

    def shutdown(self) -> None:
        """Release the VTK render window; the view shows nothing afterwards."""
        if self._closed:
            return
        self._closed = True
        self._render_timer.stop()
        if self._vtk_widget is not None:
            self._vtk_widget.Disable()  # its paint events no longer render
            self._vtk_widget.Finalize()
        else:
            self._render_window.Finalize()

    # --- Qt events ----------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is not self._canvas or self._closed:
            return False
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent):
            self._press = (event.position(), event.button())
            self._last = event.position()
            self._dragged = False
            return True
        if kind == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
            if self._press is None or self._last is None:
                return True
            delta = event.position() - self._last
            self._last = event.position()
            travelled = event.position() - self._press[0]
            if abs(travelled.x()) + abs(travelled.y()) > CLICK_SLOP_PX:
                self._dragged = True
            if self._dragged:
                if self._press[1] == Qt.MouseButton.LeftButton:
                    self.orbit(delta.x() * ORBIT_DEG_PER_PX, -delta.y() * ORBIT_DEG_PER_PX)
                else:
                    self.pan(delta.x(), delta.y())
            return True
        if kind == QEvent.Type.MouseButtonRelease and isinstance(event, QMouseEvent):
            press, self._press = self._press, None
            if press is not None and not self._dragged and press[1] == Qt.MouseButton.LeftButton:
                self.pick_at(round(event.position().x()), round(event.position().y()))
            return True
        if kind == QEvent.Type.Wheel and isinstance(event, QWheelEvent):
            notches = event.angleDelta().y() / 120.0
            if notches:
                self.zoom(ZOOM_PER_NOTCH**-notches)
            return True
        if kind == QEvent.Type.MouseButtonDblClick:
            return True
        if kind == QEvent.Type.Resize:
            self.request_render()
        return False

    # --- internals ----------------------------------------------------------------------

    def _on_period(self, _index: int) -> None:
        self._period_label = None
        self._update_title()
        self.request_render()
        start, end = self.period()
        self.periodChanged.emit(start, end)

    def _update_title(self) -> None:
        label = self._period_label if self._period_label is not None else self._period_box.currentText()
        self._title.SetInput(self.tr("Fire safety: hazards and fires (%1)").replace("%1", label))

    def _render_now(self) -> None:
        if self._closed:
            return
        if self._vtk_widget is not None:
            self._vtk_widget.Render()
        elif self._image_canvas is not None and self.isVisible():
            self._image_canvas.set_image(self.render_image())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.request_render()

    def _apply_camera(self) -> None:
        az, el = math.radians(self._azimuth), math.radians(self._elevation)
        offset = self._distance * np.array([math.cos(el) * math.sin(az), -math.cos(el) * math.cos(az), math.sin(el)])
        camera = self._renderer.GetActiveCamera()
        camera.SetFocalPoint(*self._focus)
        camera.SetPosition(*(self._focus + offset))
        camera.SetViewUp(0.0, 0.0, 1.0)
        self._renderer.ResetCameraClippingRange()
        self.request_render()

    def _to_display(self, x: float, y: float) -> tuple[float, float]:
        """Canvas widget pixels (top left origin) → VTK display pixels (bottom left)."""
        width, height = self._render_window.GetSize()
        ratio = width / max(1, self._canvas.width())
        return x * ratio, height - 1 - y * ratio

    def _from_display(self, dx: float, dy: float) -> QPoint:
        width, height = self._render_window.GetSize()
        ratio = width / max(1, self._canvas.width()) or 1.0  # not rendered yet: 1 px = 1 px
        return QPoint(round(dx / ratio), round((height - 1 - dy) / ratio))

    def _build_frame(self, district: DistrictMap) -> None:
        """The local metric frame (the 2D map's): metres east and north of the district's centre."""
        min_lon, min_lat, max_lon, max_lat = district.bounds
        self._projection = Projection((min_lon + max_lon) / 2.0, (min_lat + max_lat) / 2.0)
        x0, y0 = self._projection.point(min_lon, min_lat)
        x1, y1 = self._projection.point(max_lon, max_lat)
        self._extent = max(x1 - x0, y1 - y0, 1.0)
        self._slab_top = self._extent * SLAB_FRACTION
        self._tallest_m = self._extent * TALLEST_FRACTION
        self._half = district.lattice.cell_m * FOOTPRINT_FRACTION / 2.0

    def _metric(self, geom: BaseGeometry) -> BaseGeometry:
        return self._projection.geometry(geom)

    def _cell_centres(self, cells: Sequence[Area]) -> dict[str, tuple[float, float]]:
        if not cells:
            return {}
        # The representative point lies inside the cell even where the district clips it.
        points = shapely.point_on_surface([cell.geometry for cell in cells])
        lonlat = shapely.get_coordinates(points)
        xs, ys = self._projection.forward(lonlat[:, 0], lonlat[:, 1])
        return {cell.code: (float(x), float(y)) for cell, x, y in zip(cells, xs, ys, strict=True)}

    def _add_lights(self) -> None:
        self._renderer.AutomaticLightCreationOff()
        key = vtkLight()
        key.SetLightTypeToSceneLight()
        key.SetPosition(-0.6, -0.8, 1.2)
        key.SetFocalPoint(0.0, 0.0, 0.0)
        key.SetPositional(False)
        key.SetIntensity(0.85)
        head = vtkLight()
        head.SetLightTypeToHeadlight()
        head.SetIntensity(0.35)
        self._renderer.AddLight(key)
        self._renderer.AddLight(head)

    def _build_scene(self, district: DistrictMap) -> None:
        shape = self._metric(district.district.geometry)
        self._shape = shape
        # The neighbours, clipped to a margin around the district, as flat ground just below.
        minx, miny, maxx, maxy = shape.bounds
        margin = GROUND_MARGIN * self._extent
        frame = shapely.box(minx - margin, miny - margin, maxx + margin, maxy + margin)
        ground = [shapely.intersection(self._metric(n.geometry), frame) for n in district.neighbours]
        ground = [g for g in ground if not g.is_empty]
        if ground:
            parts = [_triangles(g, -self._slab_top * 0.05) for g in ground]
            actor, _ = _actor(_polydata(*_merge(*parts)), GROUND_RGB)
            actor.GetProperty().SetAmbient(0.3)
            actor.PickableOff()
            self._renderer.AddActor(actor)
            lines, _ = _actor(_polydata(*_rings(ground, 0.0), lines=True), (0.32, 0.36, 0.42))
            lines.PickableOff()
            self._renderer.AddActor(lines)

        # The district: a slab with walls.
        slab, _ = _actor(
            _polydata(*_merge(_triangles(shape, self._slab_top), _walls(shape, 0.0, self._slab_top))), SLAB_RGB
        )
        slab.GetProperty().SetAmbient(0.25)
        slab.PickableOff()
        self._renderer.AddActor(slab)

        # Street boundaries on the slab, and the district's edge a little brighter.
        # Lifted clear of the slab's top: at the distances the camera keeps, the depth buffer
        # cannot tell apart lines lying on the surface and they would show dashed.
        lift = self._slab_top + self._extent * 0.0015
        streets = [self._metric(s.geometry) for s in district.streets]
        if streets:
            lines, _ = _actor(_polydata(*_rings(streets, lift), lines=True), STREET_LINE_RGB)
            lines.GetProperty().SetLineWidth(1.2)
            lines.GetProperty().SetOpacity(0.7)
            lines.GetProperty().LightingOff()
            lines.PickableOff()
            self._renderer.AddActor(lines)
        edge, _ = _actor(_polydata(*_rings([shape], lift), lines=True), (1.0, 1.0, 1.0))
        edge.GetProperty().SetLineWidth(2.0)
        edge.GetProperty().LightingOff()
        edge.PickableOff()
        self._renderer.AddActor(edge)

        # Street names, always facing the camera.
        self._labels: list[vtkBillboardTextActor3D] = []
        for street, geom in zip(district.streets, streets, strict=True):
            if geom.is_empty:
                continue
            anchor = shapely.point_on_surface(geom)
            label = vtkBillboardTextActor3D()
            label.SetInput(street.label(self.language))
            label.SetPosition(anchor.x, anchor.y, self._slab_top + self._tallest_m * 0.04)
            prop = label.GetTextProperty()
            _set_font(prop, 15, (0.95, 0.97, 1.0))
            prop.SetJustificationToCentered()
            prop.SetVerticalJustificationToCentered()
            prop.ShadowOn()
            prop.SetBackgroundColor(0.05, 0.07, 0.1)
            prop.SetBackgroundOpacity(0.45)
            label.PickableOff()
            self._label_layer.AddActor(label)
            self._labels.append(label)

        # The columns (filled by set_columns) and the highlight of the picked one.
        self._lut = _ramp_lut(1.0, 2.0)
        self._columns_actor, self._columns_mapper = _actor(vtkPolyData())
        self._columns_mapper.SetLookupTable(self._lut)
        self._columns_mapper.SetScalarModeToUseCellData()
        self._columns_mapper.ScalarVisibilityOn()
        self._columns_actor.GetProperty().SetAmbient(0.2)
        self._columns_actor.GetProperty().SetDiffuse(0.85)
        self._renderer.AddActor(self._columns_actor)
        self._highlight_actor, self._highlight_mapper = _actor(vtkPolyData(), HIGHLIGHT_RGB)
        self._highlight_actor.GetProperty().SetAmbient(0.5)
        self._highlight_actor.PickableOff()
        self._highlight_actor.VisibilityOff()
        self._renderer.AddActor(self._highlight_actor)

    def _build_overlays(self) -> None:
        self._title = vtkTextActor()
        _set_font(self._title.GetTextProperty(), 20)
        self._title.GetTextProperty().SetVerticalJustificationToTop()
        self._title.GetTextProperty().ShadowOn()
        self._title.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
        self._title.SetPosition(0.02, 0.97)
        self._renderer.AddViewProp(self._title)
        self._update_title()

        self._scalar_bar = vtkScalarBarActor()
        self._scalar_bar.SetLookupTable(self._lut)
        self._scalar_bar.SetTitle(self.tr("Reports"))
        self._scalar_bar.SetLabelFormat("%.0f")
        self._scalar_bar.SetNumberOfLabels(5)
        self._scalar_bar.UnconstrainedFontSizeOn()
        self._scalar_bar.SetBarRatio(0.3)
        _set_font(self._scalar_bar.GetTitleTextProperty(), 14)
        _set_font(self._scalar_bar.GetLabelTextProperty(), 12)
        self._scalar_bar.GetLabelTextProperty().ItalicOff()
        self._scalar_bar.GetTitleTextProperty().ItalicOff()
        self._scalar_bar.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
        self._scalar_bar.GetPositionCoordinate().SetValue(0.9, 0.08)
        self._scalar_bar.SetWidth(0.08)
        self._scalar_bar.SetHeight(0.45)
        self._renderer.AddViewProp(self._scalar_bar)

        note = self.district.source_note if self.district.manifest.get("source") else ""
        self._note = vtkTextActor()
        self._note.SetInput(note)
        _set_font(self._note.GetTextProperty(), 10, (0.65, 0.7, 0.78))
        self._note.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
        self._note.SetPosition(0.01, 0.01)
        self._renderer.AddViewProp(self._note)
