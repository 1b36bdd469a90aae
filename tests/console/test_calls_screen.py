"""The calls screen in real consoles against a real server: the fused command session opened
from an incident (room, incident talk group, nearest cameras pinned on the wall, the map on the
scene, the street invited), the invited street console joining from its invitation bar, pictures
both ways in the conference grid, push-to-talk with the F8 key heard on the other console, and
the session's events in the incident's timeline. Renders /tmp/console_calls.png."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app.domain.model import Action
from app.sim.camera import SyntheticCamera
from comms.rtc.call import FrameVideo, OnsetDetector
from console.conftest import Loop
from console.test_video_screen import cameras, post_json, report
from support.server import ServerProcess
from support.waiting import until

pytestmark = pytest.mark.timeout(240)


def give_camera(console: Any, name: str) -> None:
    """A camera for a console on a machine without one (the synthetic scene with the name)."""
    camera = SyntheticCamera(f"person-{name}", name, width=320, height=180)
    service = console.calls.service
    service.camera = FrameVideo(camera.frame, 320, 180, fps=15)
    service.camera_off = False


def test_command_session_from_an_incident(server: ServerProcess, qloop: Loop, consoles: Any) -> None:
    async def scenario() -> None:
        await asyncio.to_thread(post_json, server, "/api/devices", cameras())
        officer = await consoles("officer")
        street = await consoles("changshou")
        for c in (officer, street):
            assert c.calls is not None
            await until(lambda c=c: c.sync.state.value == "online", what="online")
        give_camera(officer, "值班员甲")
        give_camera(street, "长寿路街道")
        # The street console is in its own street's talk group from the start.
        await until(lambda: "street:310107015" in street.calls.service.floors, what="the street's own group")

        incident_id = await asyncio.to_thread(report, server)
        await until(lambda: officer.sync.incident(incident_id), what="the incident at the officer")
        await officer.show_incident(incident_id)
        video = officer.video
        assert video is not None
        video.follow.setChecked(False)  # pinned by the session, not by following
        await until(lambda: len(video.panel.cameras.camera_ids()) == 5, what="cameras known")

        # One action in the detail panel.
        assert not officer.detail._session.isHidden(), "the detail offers the command session"
        officer.detail.command_session_requested.emit(incident_id)
        await until(lambda: officer.calls.service.room is not None, what="the room open")
        room = officer.calls.service.rooms[officer.calls.service.room]
        assert room.incident == incident_id and f"#{incident_id}" in room.title
        assert set(room.invited) >= {"district", "street:310107015"}
        await until(lambda: f"incident:{incident_id}" in officer.calls.service.floors, what="the incident's group")
        pinned = sorted(c for c in video.wall.tiles() if c)
        assert pinned == [f"CAM-NEAR-{i}" for i in range(4)]
        view = officer.map_panel.view2d if officer.map_panel is not None else None
        if view is not None:
            assert view.selected_incident() == incident_id

        # The street console is invited: its bar offers to join; it joins.
        calls = street.calls
        await until(lambda: calls.panel.invitation.isVisibleTo(calls.panel), what="the invitation bar")
        assert f"#{incident_id}" in calls.panel.invitation_text.text()
        calls.panel.join_button.click()
        await until(lambda: calls.service.room == room.room, what="the street in the room")
        await until(lambda: f"incident:{incident_id}" in calls.service.floors, what="the incident's talk group")

        # Pictures both ways, in the grid's tiles.
        officer.workspace.show_panel("calls")
        street.workspace.show_panel("calls")
        grid_o, grid_s = officer.calls.panel.conference.grid, calls.panel.conference.grid
        spid, opid = calls.service.participant_id, officer.calls.service.participant_id
        await until(
            lambda: grid_o.has_picture(spid) and grid_s.has_picture(opid), timeout=40, what="pictures both ways"
        )
        # Each sees itself too: its own camera, as the others see it.
        await until(lambda: grid_o.has_picture(opid) and grid_s.has_picture(spid), what="own pictures")

        # Push to talk with F8 on the officer's console: the street hears it and sees the name.
        heard = OnsetDetector()
        calls.service.on_talk_audio = heard
        # Both consoles live in this test's one application; a workstation runs one. The F8 key
        # is the officer's here.
        calls.ptt.uninstall()
        officer.calls.panel.talk.select_group(f"incident:{incident_id}")
        QTest.keyPress(officer.windows[0], Qt.Key.Key_F8)
        await until(
            lambda: officer.calls.service.floors[f"incident:{incident_id}"].state == "talking", what="F8 grants"
        )
        await until(
            lambda: calls.service.floors[f"incident:{incident_id}"].talker == "值班员甲", what="the talker's name"
        )
        officer.calls.service.microphone.tone(0.3)
        await until(lambda: heard.onsets, what="the officer heard at the street")
        await asyncio.sleep(0.5)
        officer.windows[0].grab().save("/tmp/console_calls.png")
        street.windows[0].grab().save("/tmp/console_calls_street.png")
        QTest.keyRelease(officer.windows[0], Qt.Key.Key_F8)
        await until(
            lambda: calls.service.floors[f"incident:{incident_id}"].state == "idle", what="idle after F8 is let go"
        )

        # The session's events are in the incident's timeline.
        async def session_notes() -> list[str]:
            incident = await officer.sync.incident(incident_id)
            return [e.note for e in incident.timeline if e.action is Action.COMMAND] if incident else []

        await until(lambda: _has(session_notes, "长寿路街道"), what="the street's joining in the timeline")
        notes = await session_notes()
        assert any("开启会商" in n for n in notes), notes
        assert any("加入会商" in n and "长寿路街道" in n for n in notes), notes

        # Invite a person from the directory (the dialog lists the people who sign in).
        officer.calls.panel.conference.invite_requested.emit()
        await until(lambda: officer.calls.invite_dialog is not None, what="the invitation dialog")
        dialog = officer.calls.invite_dialog
        assert dialog is not None
        assert "user:officer2" in dialog.visible_keys() and "user:officer" not in dialog.visible_keys()
        dialog.set_checked("user:officer2")
        dialog.accept()
        await until(lambda: "user:officer2" in officer.calls.service.rooms[room.room].invited, what="officer2 invited")
        assert "值班员乙" in officer.calls.panel.conference.status_text()

        # The street leaves: that is recorded too.
        calls.panel.conference.leave_requested.emit()
        await until(lambda: calls.service.room is None, what="the street out of the room")
        await until(lambda: _has(session_notes, "离开会商"), what="the leaving in the timeline")

    qloop.run(scenario(), timeout=200)


async def _has(notes: Any, text: str) -> bool:
    return any(text in n for n in await notes())
