"""The 2D map widget, offscreen, over Putuo's real layers: what it draws, how the operator moves
it (mouse, wheel, keys, touch), what it tells its owner, and live changes. Also renders the
map to /tmp/map2d.png and /tmp/map2d_zoom.png for a person to look at."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt
from PySide6.QtGui import QContextMenuEvent, QImage, QNativeGestureEvent, QPointingDevice, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.console.qt import choose_font, install_translations
from app.domain.devices import Device, DeviceKind, DeviceState
from app.domain.district import DistrictMap
from app.setup_data import build_translations
from bench.map import devices, incidents
from widgets.map.clusters import Cluster
from widgets.map.view2d import LAYERS, MAX_SCALE, STREET_SCALE, MapView

W, H = 1000, 700
#: Pop-up menus grab the keyboard, which the offscreen platform cannot do; it says so.
menus = pytest.mark.qt_log_ignore("This plugin does not support grabbing the keyboard", extend=True)


@pytest.fixture(scope="module")
def app(qapp: QApplication) -> QApplication:
    """The CJK font and the Chinese translation, as the console sets them."""
    if not qapp.property("cityops_map_test_setup"):
        build_translations()
        choose_font(qapp)
        install_translations(qapp, "zh")
        qapp.setProperty("cityops_map_test_setup", True)
    return qapp


@pytest.fixture
def view(app: QApplication, qtbot: QtBot, district_map: DistrictMap) -> Iterator[MapView]:
    widget = MapView(district_map)
    widget.animation_ms = 0
    qtbot.addWidget(widget)
    widget.resize(W, H)
    widget.show()
    qtbot.waitExposed(widget)
    widget.fit_district()
    yield widget
    widget.close()


def load(view: MapView, n: int = 5000) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    data = incidents(view.district, n)
    view.set_incidents(*data)
    return data


def frame(view: MapView) -> QImage:
    return view.grab().toImage()


def pixel(image: QImage, p: QPointF) -> int:
    return image.pixel(round(p.x()), round(p.y()))


def distinct_colours(image: QImage) -> int:
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    raw = np.frombuffer(image.constBits(), dtype=np.uint32, count=image.width() * image.height())
    return len(np.unique(raw))


def wheel(view: MapView, pos: QPointF, delta: int) -> None:
    event = QWheelEvent(
        pos,
        QPointF(view.mapToGlobal(pos.toPoint())),
        QPoint(0, 0),
        QPoint(0, delta),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view, event)


def central_cluster(view: MapView, minimum: int = 2) -> Cluster:
    """A cluster well inside the view (its whole cell in view) with at least ``minimum``
    incidents, biggest first."""
    frame(view)  # paint, so the hit-test state matches the view
    candidates = []
    for c in view.visible_clusters():
        p = view.to_screen(c.lon, c.lat)
        if c.count >= minimum and 120 < p.x() < W - 120 and 120 < p.y() < H - 120:
            drawn = view.cluster_at(p)
            if drawn is not None and set(drawn.ids.tolist()) == set(c.ids.tolist()):
                candidates.append(c)
    assert candidates, "no cluster in the middle of the view"
    return max(candidates, key=lambda c: c.count)


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


# -- layers ---------------------------------------------------------------------------------------
def test_layer_toggles_change_what_is_drawn(view: MapView) -> None:
    load(view)
    view.set_devices(devices(view.district, 300))
    assert [name for name in LAYERS if view.layer_visible(name)] == [n for n in LAYERS if n != "heat"]
    assert view.grid_drawn()  # cells are over 6 px at the whole-district zoom of a 1000 px map
    for name in LAYERS:
        before = frame(view)
        on = view.layer_visible(name)
        view.set_layer_visible(name, not on)
        assert view.layer_visible(name) is (not on)
        assert view.layer_actions[name].isChecked() is (not on)
        assert frame(view) != before, f"toggling {name} changed nothing on screen"
        # The layer panel's action does the same.
        view.layer_actions[name].trigger()
        assert view.layer_visible(name) is on
        assert frame(view) == before
    with pytest.raises(ValueError):
        view.set_layer_visible("tiles", True)


def test_the_grid_is_drawn_only_when_cells_are_big_enough(view: MapView) -> None:
    view.zoom_by(0.25)
    assert view.layers.cell_m * view.scale() < 6.0
    assert not view.grid_drawn()
    before = frame(view)
    view.set_layer_visible("grid", False)
    assert frame(view) == before
    assert "6" in view.layer_actions["grid"].text()  # the panel says when it shows


# -- selection and follow ---------------------------------------------------------------------------
def test_select_with_follow_centres_on_the_incident(view: MapView, qtbot: QtBot) -> None:
    ids, lon, lat, _ = load(view)
    assert view.follow()
    k = 1234
    view.select_incident(int(ids[k]))
    assert view.selected_incident() == int(ids[k])
    centre = view.center()
    assert centre == pytest.approx((lon[k], lat[k]), abs=1e-9)
    assert view.scale() >= STREET_SCALE
    # The ring is drawn there.
    ringed = frame(view)
    view.select_incident(None)
    assert view.selected_incident() is None
    assert frame(view) != ringed
    # Without follow the view stays where it is.
    view.set_follow(False)
    assert not view.follow_button.isChecked()
    view.select_incident(int(ids[99]))
    assert view.center() == pytest.approx(centre, abs=1e-12)
    # Turning follow on goes to the selected incident.
    view.follow_button.click()
    assert view.follow()
    assert view.center() == pytest.approx((lon[99], lat[99]), abs=1e-9)


# -- clicks -----------------------------------------------------------------------------------------
def test_clicking_a_single_marker_activates_its_incident(view: MapView, qtbot: QtBot) -> None:
    # Three incidents far apart: at street zoom each is a marker of its own.
    lon0, lat0 = view.district.district.geometry.representative_point().coords[0]
    view.set_incidents([11, 12, 13], [lon0, lon0 + 0.01, lon0], [lat0, lat0, lat0 + 0.01], [2, 3, 4])
    view.center_on(lon0, lat0, STREET_SCALE)
    frame(view)
    single = view.cluster_at(view.to_screen(lon0, lat0))
    assert single is not None and single.count == 1
    with qtbot.waitSignal(view.incidentActivated, timeout=2000) as blocker:
        QTest.mouseClick(
            view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, view.to_screen(lon0, lat0).toPoint()
        )
    assert blocker.args == [11]
    assert view.selected_incident() == 11
    # The console selects it back: the map stays where the operator has it.
    centre = view.center()
    view.select_incident(11)
    assert view.center() == centre
    # Clicking the empty map activates nothing.
    with qtbot.assertNotEmitted(view.incidentActivated):
        QTest.mouseClick(
            view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(W // 2 + 150, H // 2 + 150)
        )


def test_clicking_a_cluster_zooms_in_on_it(view: MapView, qtbot: QtBot) -> None:
    load(view)
    cluster = central_cluster(view)
    scale = view.scale()
    where = view.to_screen(cluster.lon, cluster.lat).toPoint()
    with qtbot.assertNotEmitted(view.clusterListed):
        QTest.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, where)
    assert view.scale() >= 2 * scale * 0.999
    assert view.center() == pytest.approx((cluster.lon, cluster.lat), abs=1e-9)


def test_the_zoom_into_a_cluster_is_animated(view: MapView, qtbot: QtBot) -> None:
    view.animation_ms = 150
    load(view)
    cluster = central_cluster(view)
    scale = view.scale()
    QTest.mouseClick(
        view,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
        view.to_screen(cluster.lon, cluster.lat).toPoint(),
    )
    assert view.is_animating()
    qtbot.waitUntil(lambda: not view.is_animating(), timeout=3000)
    assert view.scale() >= 2 * scale * 0.999
    assert view.center() == pytest.approx((cluster.lon, cluster.lat), abs=1e-9)


@menus
def test_listing_a_cluster_emits_its_ids_and_offers_them(view: MapView, qtbot: QtBot) -> None:
    load(view)
    cluster = central_cluster(view)
    where = view.to_screen(cluster.lon, cluster.lat).toPoint()
    with qtbot.waitSignal(view.clusterListed, timeout=2000) as listed:
        QTest.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, where)
    assert sorted(listed.args[0]) == sorted(cluster.ids.tolist())
    menu = view.list_menu
    assert menu is not None
    chosen = [a for a in menu.actions() if a.data() is not None]
    assert 0 < len(chosen) <= min(cluster.count, 40)
    # Most severe first.
    assert chosen[0].data() in cluster.ids.tolist()
    with qtbot.waitSignal(view.incidentActivated, timeout=2000) as activated:
        chosen[0].trigger()
    assert activated.args == [chosen[0].data()]
    menu.close()

    # The context menu lists it as well.
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, where, view.mapToGlobal(where))
    QApplication.sendEvent(view, event)
    actions = {a.text(): a for a in view.context_menu.actions()}
    list_action = next(a for text, a in actions.items() if text == view.tr("List incidents"))
    with qtbot.waitSignal(view.clusterListed, timeout=2000) as listed_again:
        list_action.trigger()
    assert sorted(listed_again.args[0]) == sorted(cluster.ids.tolist())
    view.context_menu.close()
    assert view.list_menu is not None
    view.list_menu.close()


@menus
def test_at_the_largest_zoom_a_click_lists_the_cluster(view: MapView, qtbot: QtBot) -> None:
    lon0, lat0 = view.district.district.geometry.representative_point().coords[0]
    # Five reports at the same address: no zoom splits them.
    view.set_incidents([1, 2, 3, 4, 5], [lon0] * 5, [lat0] * 5, [4, 3, 1, 2, 4])
    view.center_on(lon0, lat0, MAX_SCALE / 4)
    frame(view)
    with qtbot.waitSignal(view.clusterListed, timeout=2000) as listed:
        QTest.mouseClick(
            view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, view.to_screen(lon0, lat0).toPoint()
        )
    assert listed.args[0][0] == 3  # the red one first
    assert sorted(listed.args[0]) == [1, 2, 3, 4, 5]
    assert view.scale() == pytest.approx(MAX_SCALE / 4)
    assert view.list_menu is not None
    view.list_menu.close()


def test_clicking_a_device_activates_it(view: MapView, qtbot: QtBot) -> None:
    lon0, lat0 = view.district.district.geometry.representative_point().coords[0]
    base = {"type": "smoke", "street": "310107103", "name": "烟感 1"}
    view.set_devices(
        [
            Device(id="SN-1", kind=DeviceKind.SENSOR, lon=lon0, lat=lat0, **base),
            Device(id="CAM-1", kind=DeviceKind.CAMERA, lon=lon0 + 0.004, lat=lat0, **base),
        ]
    )
    view.center_on(lon0, lat0, STREET_SCALE)
    before = frame(view)
    with qtbot.waitSignal(view.deviceActivated, timeout=2000) as blocker:
        QTest.mouseClick(
            view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, view.to_screen(lon0, lat0).toPoint()
        )
    assert blocker.args == ["SN-1"]
    # A state change shows (alarm: red with a halo).
    view.update_devices(
        [Device(id="SN-1", kind=DeviceKind.SENSOR, lon=lon0, lat=lat0, state=DeviceState.ALARM, **base)]
    )
    qtbot.waitUntil(lambda: frame(view) != before, timeout=2000)
    p = view.to_screen(lon0, lat0)
    assert QImage(frame(view)).pixelColor(round(p.x()), round(p.y())).red() > 200


# -- live changes -----------------------------------------------------------------------------------
def test_a_live_upsert_appears_and_repaints_once(view: MapView, qtbot: QtBot) -> None:
    _, lon, lat, _ = load(view)
    view.center_on(float(lon[0]), float(lat[0]), STREET_SCALE)
    # An empty spot in view: no incident within two cluster cells of it, so the new one is a
    # marker of its own there.
    clustering = view.clustering()
    n = view.incidents.n
    xs, ys = view.incidents.x[:n], view.incidents.y[:n]
    spot = None
    for fx in np.linspace(0.1, 0.9, 33):
        for fy in np.linspace(0.1, 0.9, 33):
            p = QPointF(W * fx, H * fy)
            wx, wy = view.projection.point(*view.to_lonlat(p))
            if np.min(np.hypot(xs - wx, ys - wy)) > 2 * clustering.cell_m:
                spot = p
                break
        if spot is not None:
            break
    assert spot is not None, "no empty spot in view"
    in_view = view.incidents_in_view()
    before = frame(view)
    new_lon, new_lat = view.to_lonlat(spot)
    counter = PaintCounter()
    view.installEventFilter(counter)
    for _ in range(50):  # a burst of the same change: one repaint, not fifty
        view.upsert_incidents([99], [new_lon], [new_lat], [1])
    qtbot.waitUntil(lambda: counter.paints >= 1, timeout=2000)
    qtbot.wait(100)
    assert counter.paints <= 2
    view.removeEventFilter(counter)
    assert view.incidents_in_view() == in_view + 1
    after = frame(view)
    assert pixel(after, spot) != pixel(before, spot)
    red = after.pixelColor(round(spot.x()), round(spot.y()))
    assert red.red() > 150 and red.green() < 100  # the red marker
    view.remove_incidents([99])
    qtbot.waitUntil(lambda: view.incidents_in_view() == in_view, timeout=2000)
    qtbot.waitUntil(lambda: pixel(frame(view), spot) == pixel(before, spot), timeout=2000)


# -- moving the map ---------------------------------------------------------------------------------
def test_wheel_zoom_keeps_the_point_under_the_cursor(view: MapView) -> None:
    pos = QPointF(310.0, 220.0)
    under = view.to_lonlat(pos)
    scale = view.scale()
    wheel(view, pos, 120)
    assert view.scale() == pytest.approx(scale * 2**0.5)
    assert view.to_lonlat(pos) == pytest.approx(under, abs=1e-9)
    wheel(view, pos, -240)
    assert view.scale() == pytest.approx(scale / 2**0.5)
    assert view.to_lonlat(pos) == pytest.approx(under, abs=1e-9)


def test_two_finger_pinch_zooms_around_the_fingers(view: MapView) -> None:
    device = QTest.createTouchDevice()
    scale = view.scale()
    a, b = QPoint(400, 350), QPoint(600, 350)
    # On the offscreen platform QTest's touch points reach the widget shifted by the window's
    # frame margin; the fingers are where the widget was told they are.
    shift = QPointF(view.mapToGlobal(QPoint(0, 0)))
    under = view.to_lonlat(QPointF(500, 350) - shift)
    QTest.touchEvent(view, device).press(0, a).press(1, b).commit()
    QTest.touchEvent(view, device).move(0, QPoint(300, 350)).move(1, QPoint(700, 350)).commit()
    assert view.scale() == pytest.approx(scale * 2.0)
    QTest.touchEvent(view, device).move(0, QPoint(200, 300)).move(1, QPoint(800, 300)).commit()
    assert view.scale() == pytest.approx(scale * 3.0)
    # The map point that was between the fingers is between them still.
    assert view.to_lonlat(QPointF(500, 300) - shift) == pytest.approx(under, abs=1e-9)
    QTest.touchEvent(view, device).release(0, QPoint(200, 300)).release(1, QPoint(800, 300)).commit()
    # One finger drags.
    centre = view.center()
    QTest.touchEvent(view, device).press(0, QPoint(500, 350)).commit()
    QTest.touchEvent(view, device).move(0, QPoint(560, 350)).commit()
    QTest.touchEvent(view, device).release(0, QPoint(560, 350)).commit()
    assert view.center()[0] < centre[0]  # content moved right: the view looks further west


def test_trackpad_pinch_zooms_around_the_pointer(view: MapView) -> None:
    pos = QPointF(700.0, 250.0)
    under = view.to_lonlat(pos)
    scale = view.scale()
    for _ in range(4):  # a pinch arrives as a stream of small steps
        event = QNativeGestureEvent(
            Qt.NativeGestureType.ZoomNativeGesture,
            QPointingDevice.primaryPointingDevice(),
            2,
            pos,
            pos,
            QPointF(view.mapToGlobal(pos.toPoint())),
            0.25,
            QPointF(0, 0),
        )
        QApplication.sendEvent(view, event)
    assert view.scale() == pytest.approx(scale * 1.25**4)
    assert view.to_lonlat(pos) == pytest.approx(under, abs=1e-9)


def test_drag_pans_and_keys_move_and_zoom(view: MapView) -> None:
    centre = view.center()
    start = QPoint(500, 350)
    QTest.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(view, QPoint(600, 400))
    QTest.mouseRelease(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(600, 400))
    assert view.to_lonlat(QPointF(600, 400)) == pytest.approx(
        view.projection.lonlat(*view._to_world(QPointF(600, 400)))
    )
    moved = view.center()
    assert moved[0] < centre[0] and moved[1] > centre[1]
    scale = view.scale()
    QTest.keyClick(view, Qt.Key.Key_Plus)
    assert view.scale() == pytest.approx(scale * 2)
    QTest.keyClick(view, Qt.Key.Key_Minus)
    assert view.scale() == pytest.approx(scale)
    QTest.keyClick(view, Qt.Key.Key_Right)
    assert view.center()[0] > moved[0]
    QTest.keyClick(view, Qt.Key.Key_Home)
    assert view.center() == pytest.approx(centre, abs=1e-12)
    QTest.mouseDClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(300, 300))
    assert view.scale() == pytest.approx(scale * 2)
    view.zoom_out_button.click()
    view.zoom_out_button.click()
    assert view.scale() == pytest.approx(scale / 2)
    view.fit_button.click()
    assert view.center() == pytest.approx(centre, abs=1e-12)


def test_view_bounds_follow_the_view(view: MapView) -> None:
    lon0, lat0, lon1, lat1 = view.view_bounds()
    d0, d1, d2, d3 = view.district.bounds
    assert lon0 < d0 < d2 < lon1 and lat0 < d1 < d3 < lat1
    changes: list[int] = []
    view.viewChanged.connect(lambda: changes.append(1))
    view.center_on((d0 + d2) / 2, (d1 + d3) / 2, 1.0)
    assert changes
    b = view.view_bounds()
    assert b[2] - b[0] == pytest.approx(W / 1.0 / view.projection.m_per_deg_lon)


# -- readouts ---------------------------------------------------------------------------------------
def test_scale_bar_and_cursor_readout(view: MapView, qtbot: QtBot, district_map: DistrictMap) -> None:
    metres, px, text = view.scale_bar()
    assert 40 <= px <= 120
    assert str(metres).rstrip("0").rstrip(".")[0] in "125"
    view.zoom_by(8.0)
    metres2, _, text2 = view.scale_bar()
    assert metres2 < metres and text2 != text
    shown = frame(view)
    view.zoom_by(2.0)
    assert frame(view) != shown
    # The pointer's lon/lat, then (throttled) its grid cell.
    lon, lat = district_map.district.geometry.representative_point().coords[0]
    view.center_on(lon, lat)
    centre = QPoint(W // 2, H // 2)
    frame(view)
    qtbot.wait(50)
    counter = PaintCounter()
    view.installEventFilter(counter)
    QTest.mouseMove(view, centre)
    expected = view.to_lonlat(QPointF(centre))
    assert f"{expected[0]:.6f}, {expected[1]:.6f}" in view.coordinate_text()
    cell = district_map.cell_code_at(*expected)
    assert cell
    qtbot.waitUntil(lambda: cell in view.coordinates.text(), timeout=2000)
    for x in range(0, 200, 20):
        QTest.mouseMove(view, centre + QPoint(x, x // 2))
    qtbot.wait(150)
    assert counter.paints == 0  # the readout repaints itself, not the map under it
    view.removeEventFilter(counter)
    # Provenance in the corner, and the notice that the streets are approximate.
    assert district_map.source_note in view.source.text()
    assert not district_map.streets_official
    assert view.notice is not None and view.notice.isVisible()
    assert view.notice.toolTip() == district_map.streets_note


# -- pictures ---------------------------------------------------------------------------------------
def test_render_pictures(app: QApplication, qtbot: QtBot, district_map: DistrictMap) -> None:
    """The map as an operator sees it, all layers on: /tmp/map2d.png (the district) and
    /tmp/map2d_zoom.png (a street)."""
    view = MapView(district_map)
    qtbot.addWidget(view)
    view.resize(1600, 1000)
    view.show()
    qtbot.waitExposed(view)
    ids, lon, lat, _ = load(view, 5000)
    view.set_devices(devices(district_map, 400))
    for name in LAYERS:
        view.set_layer_visible(name, True)
    view.fit_district()
    whole = frame(view)
    whole.save("/tmp/map2d.png")
    assert distinct_colours(whole) > 500
    view.set_follow(True)
    view.select_incident(int(ids[42]))
    view.center_on(float(lon[42]), float(lat[42]), 0.8)
    zoomed = frame(view)
    zoomed.save("/tmp/map2d_zoom.png")
    assert distinct_colours(zoomed) > 500
    view.close()
