"""The console's calls screen: the conference room, the talk groups, and the fused command
session of an incident.

:class:`CallsPanel` puts an invitation bar, the conference (:class:`ConferencePanel`) and the
talk groups (:class:`TalkPanel`) side by side. :class:`CallsController` drives it from the
:class:`~app.services.calls.CallService`: room states become tiles, floor events become the
talk groups' lines, pictures go to the tiles' feeds and sound to the loudspeaker straight from
the media thread. The push-to-talk key (F8 by default) works anywhere in the console.

:meth:`CallsController.open_command_session` is the fused command session (融合指挥): from an
incident, one action opens a room about it, joins its talk group, puts its nearest cameras on
the video wall, focuses the map on the scene and invites the street, the professional center
and the district center. The server writes who came and went into the incident's timeline."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton, QSplitter, QVBoxLayout, QWidget
from shiboken6 import isValid

from app.console.audio import AudioIn, AudioOut
from app.domain.catalog import Catalog
from app.domain.model import Incident
from app.domain.permissions import Principal, Role
from app.services.calls import CallRefused, CallService, FloorView, Image, Samples
from comms.protocol import messages as m
from widgets.calls.conference import ConferencePanel, InviteDialog, ParticipantCard
from widgets.calls.talk import PttKey, TalkGroupView, TalkPanel
from widgets.video.feed import FrameInfo, TileFeed

log = logging.getLogger(__name__)

_COMMANDERS = frozenset({Role.DISTRICT_OFFICER, Role.FIELD_COMMANDER, Role.ADMIN})


class CallsPanel(QWidget):
    """Invitations on top; the conference and the talk groups beside each other."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.invitation = QFrame()
        self.invitation.setObjectName("invitationBar")
        self.invitation.setStyleSheet(
            "QFrame#invitationBar { background: #3a2f12; border: 1px solid #c9a227; border-radius: 4px; }"
            "QLabel { color: #f3e3a0; font-size: 11pt; }"
        )
        bar = QHBoxLayout(self.invitation)
        bar.setContentsMargins(10, 6, 10, 6)
        self.invitation_text = QLabel()
        self.join_button = QPushButton(self.tr("Join"))
        self.join_button.setObjectName("joinInvitation")
        bar.addWidget(self.invitation_text, 1)
        bar.addWidget(self.join_button)
        self.invitation.hide()
        self.conference = ConferencePanel()
        self.talk = TalkPanel()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.conference)
        splitter.addWidget(self.talk)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.invitation)
        layout.addWidget(splitter, 1)


class CallsController(QObject):
    """Drives the calls screen from the call service (all on the Qt thread, but the media)."""

    def __init__(
        self,
        panel: CallsPanel,
        service: CallService,
        principal: Principal,
        catalog: Catalog,
        *,
        street_names: dict[str, str],
        pin_cameras: Callable[[Incident], None] | None = None,
        focus_map: Callable[[Incident], None] | None = None,
        show_panel: Callable[[], None] | None = None,
        notify: Callable[[str], None] | None = None,
        audio: bool = True,
        language: str = "zh",
    ) -> None:
        super().__init__(panel)
        self.panel = panel
        self.service = service
        self.principal = principal
        self.catalog = catalog
        self.street_names = street_names
        self.language = language
        self.pin_cameras = pin_cameras
        self.focus_map = focus_map
        self.show_panel = show_panel
        self.notify = notify
        self.out = AudioOut(self) if audio else None
        self.mic = AudioIn(self) if audio else None
        if self.mic is not None and self.mic.available:
            service.microphone.capture = self.mic.capture
        self.ptt = PttKey(parent=self)
        self._feeds: dict[str, TileFeed] = {}
        self._levels: dict[str, float] = {}
        self._talk_level = 0.0
        self._levels_lock = threading.Lock()
        self._invited: m.Room | None = None
        self.invite_dialog: InviteDialog | None = None
        self._people_names: dict[str, str] = {}
        self._seen_invitations: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._meters = QTimer(self)
        self._meters.setInterval(100)
        self._meters.timeout.connect(self._show_levels)

        conference, talk = panel.conference, panel.talk
        conference.mute_toggled.connect(lambda muted: self._spawn(self._mute(muted)))
        conference.camera_toggled.connect(lambda off: self._spawn(self._camera(off)))
        conference.invite_requested.connect(self._invite)
        conference.link_requested.connect(lambda: self._spawn(self._guest_link()))
        conference.leave_requested.connect(lambda: self._spawn(self._leave()))
        talk.join_requested.connect(lambda group: self._spawn(self._join_group(group)))
        talk.leave_requested.connect(lambda group: self._spawn(self._leave_group(group)))
        talk.ptt_pressed.connect(lambda group, emergency: self._spawn(self._press(group, emergency)))
        talk.ptt_released.connect(lambda group: self._spawn(self._release(group)))
        talk.revoke_requested.connect(lambda group: self._spawn(self._revoke(group)))
        talk.set_can_revoke(principal.role in _COMMANDERS)
        talk.set_microphone(self.mic is not None and self.mic.available)
        talk.set_ptt_key_label("F8")
        panel.join_button.clicked.connect(lambda: self._spawn(self._accept_invitation()))
        self.ptt.pressed.connect(self._ptt_key_down)
        self.ptt.released.connect(self._ptt_key_up)

        service.listeners.append(self.refresh)
        service.on_video = self._video
        service.on_audio = self._audio
        service.on_talk_audio = self._heard
        service.video_size = self._video_size

    # -- plumbing ------------------------------------------------------------------------------
    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def start(self) -> None:
        """Join the console's own talk group (the street's, the center's) and listen for F8."""
        app = QApplication.instance()
        if app is not None:
            self.ptt.install(app)
        self._meters.start()
        own = self.own_group()
        if own is not None:
            self._spawn(self._join_group(own))
        self.refresh()

    async def stop(self) -> None:
        # The screen may be gone already (its window closed first): its Qt parts with it.
        if isValid(self):
            self.ptt.uninstall()
            self._meters.stop()
            if self.out is not None:
                self.out.stop()
            if self.mic is not None:
                self.mic.stop()
        await self.service.stop()

    def own_group(self) -> str | None:
        p = self.principal
        if p.street and p.role in (Role.STREET_OPERATOR, Role.FIELD_COMMANDER):
            return f"street:{p.street}"
        if p.field and p.role is Role.PROFESSIONAL_CENTER:
            return f"field:{p.field}"
        return None

    async def _guard(self, action: Coroutine[Any, Any, Any], where: str) -> bool:
        """Run an operator's action; a refusal or a lost connection is said where it happened."""
        try:
            await action
            return True
        except CallRefused as exc:
            text = self.tr("Refused: %1").replace("%1", exc.reason)
        except Exception as exc:  # offline, a timeout
            text = self.tr("Not done: %1").replace("%1", str(exc) or type(exc).__name__)
        if where == "talk":
            self.panel.talk.show_status(text, error=True)
        else:
            self.panel.conference.show_status(text, error=True)
        return False

    # -- the media thread's side ---------------------------------------------------------------
    def _video(self, pid: str, image: Image | None, frame: Any) -> None:
        feed = self._feeds.get(pid)
        if feed is not None and image is not None:
            feed.offer(image, FrameInfo(None, None))

    def _video_size(self, pid: str) -> tuple[int, int]:
        feed = self._feeds.get(pid)
        return feed.target_size() if feed is not None else (0, 0)

    def _audio(self, pid: str, samples: Samples, level: float) -> None:
        if self.out is not None:
            self.out.push(pid, samples)
        with self._levels_lock:
            self._levels[pid] = max(level, self._levels.get(pid, 0.0))

    def _heard(self, samples: Samples, level: float) -> None:
        if self.out is not None:
            self.out.push("talk", samples)
        with self._levels_lock:
            self._talk_level = max(level, self._talk_level)

    def _show_levels(self) -> None:
        with self._levels_lock:
            levels, self._levels = self._levels, {}
            talk, self._talk_level = self._talk_level, 0.0
        for pid, level in levels.items():
            if pid in self._feeds:
                self.panel.conference.set_level(pid, min(1.0, level * 4))
        self.panel.talk.set_receive_level(min(1.0, talk * 4))
        mic = self.service.microphone
        self.panel.talk.set_microphone(self.mic is not None and self.mic.available, min(1.0, mic.level * 4))

    # -- the view ------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._refresh_room()
        self._refresh_talk()
        self._refresh_invitation()

    def _refresh_room(self) -> None:
        conference = self.panel.conference
        room = self.service.rooms.get(self.service.room) if self.service.room else None
        if room is None:
            conference.set_room(self.tr("No conference"), self.tr("Open one from an incident, or join an invitation"))
            conference.set_participants([])
            self._feeds = {}
            return
        cards = [
            ParticipantCard(
                id=p.id,
                name=p.name,
                center=p.center,
                is_self=p.id == room.you,
                audio_on=p.audio,
                video_on=(not self.service.camera_off) if p.id == room.you else p.video and p.publishing,
                state="live" if p.publishing or p.id == room.you else "connecting",
            )
            for p in room.participants
        ]
        conference.set_participants(cards)
        self._feeds = {c.id: conference.feed(c.id) for c in cards}
        conference.set_active_speaker(room.speaker)
        conference.set_room(room.title, self.tr("%1 participants").replace("%1", str(len(cards))))
        conference.set_local_state(self.service.muted, self.service.camera_off)

    def field_name(self, field: str) -> str:
        """A professional field's center by name (its professional unit in the catalog)."""
        units = [u for u in self.catalog.units.values() if u.field == field and u.kind != "street"]
        units.sort(key=lambda u: u.kind != "professional")
        if not units:
            return self.tr("%1 center").replace("%1", field)
        return units[0].name.get(self.language)

    def group_title(self, group: str) -> str:
        kind, _, name = group.partition(":")
        if kind == "street":
            return self.street_names.get(name, name)
        if kind == "field":
            return self.field_name(name)
        if kind == "incident":
            return self.tr("Incident #%1").replace("%1", name)
        return group

    def _refresh_talk(self) -> None:
        groups: dict[str, FloorView] = dict(self.service.floors)
        offered: list[str] = []
        own = self.own_group()
        if own is not None:
            offered.append(own)
        if self.principal.role in (Role.DISTRICT_OFFICER, Role.ADMIN, Role.TRAINER):
            offered += [f"street:{code}" for code in sorted(self.street_names)]
        views: list[TalkGroupView] = []
        notes = {
            "preempted": self.tr("Pre-empted by a commander"),
            "revoked": self.tr("Floor taken away"),
            "time_limit": self.tr("Talk time used up"),
            "outranked": self.tr("Someone with priority talks"),
            "queue_full": self.tr("The queue is full"),
        }
        for group in list(dict.fromkeys([*groups, *offered])):
            floor = groups.get(group)
            if floor is None:
                views.append(TalkGroupView(group, self.group_title(group)))
                continue
            views.append(
                TalkGroupView(
                    group,
                    self.group_title(group),
                    joined=floor.joined,
                    state=floor.state,
                    talker=floor.talker,
                    queue_position=floor.queue_position,
                    note=floor.refused or notes.get(floor.note, floor.note),
                    emergency=floor.emergency,
                )
            )
        self.panel.talk.set_groups(views)

    def _refresh_invitation(self) -> None:
        pending = [r for r in self.service.rooms.values() if not r.you and r.room != self.service.room and not r.closed]
        self._invited = pending[-1] if pending else None
        bar = self.panel.invitation
        if self._invited is None:
            bar.hide()
            return
        room = self._invited
        host = next((p.name for p in room.participants if p.user == room.host), room.host)
        self.panel.invitation_text.setText(
            self.tr("%1 invites you to the conference “%2” (%3 in it)")
            .replace("%1", host)
            .replace("%2", room.title)
            .replace("%3", str(len(room.participants)))
        )
        bar.show()
        if room.room not in self._seen_invitations:
            self._seen_invitations.add(room.room)
            if self.notify is not None:
                self.notify(self.tr("Conference invitation: %1").replace("%1", room.title))

    # -- operator actions ----------------------------------------------------------------------
    async def _accept_invitation(self) -> None:
        room = self._invited
        if room is None:
            return
        if await self._guard(self.service.join(room.room), "room"):
            self.panel.conference.show_status(self.tr("Joined “%1”").replace("%1", room.title))
            if room.incident is not None:
                await self._guard(self.service.join_group(f"incident:{room.incident}"), "talk")
            if self.show_panel is not None:
                self.show_panel()

    async def _mute(self, muted: bool) -> None:
        if await self._guard(self.service.set_muted(muted), "room"):
            self.panel.conference.show_status(self.tr("Microphone off") if muted else self.tr("Microphone on"))

    async def _camera(self, off: bool) -> None:
        if self.service.camera is None and not off:
            self.panel.conference.show_status(self.tr("This workstation has no camera"), error=True)
            self.panel.conference.set_local_state(self.service.muted, True)
            return
        if await self._guard(self.service.set_camera_off(off), "room"):
            self.panel.conference.show_status(self.tr("Camera off") if off else self.tr("Camera on"))

    def _invite(self) -> None:
        if self.service.room is None:
            self.panel.conference.show_status(self.tr("Join or open a conference first"), error=True)
            return
        self._spawn(self._invite_dialog())

    async def people(self) -> list[tuple[str, str, str]]:
        """The directory as the invitation dialog lists it: (key, name, center)."""
        sync = self.service.sync
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.get(
                f"{sync.server_url.rstrip('/')}/api/people", headers={"Authorization": f"Bearer {sync.token}"}
            )
        response.raise_for_status()
        out = []
        for person in response.json():
            if person["name"] == self.principal.name:
                continue
            if person.get("street"):
                center = self.street_names.get(person["street"], person["street"])
            elif person.get("field"):
                center = self.field_name(person["field"])
            else:
                center = self.tr("District operations center")
            out.append((f"user:{person['name']}", person["display_name"], center))
        self._people_names = {key: name for key, name, _center in out}
        return out

    async def _invite_dialog(self) -> None:
        try:
            people = await self.people()
        except Exception as exc:  # offline: centers can still be invited
            log.info("the directory is not available: %s", exc)
            people = []
        centers = [("district", self.tr("District operations center"))]
        centers += [(f"street:{code}", name) for code, name in sorted(self.street_names.items())]
        fields = sorted({c.field for c in self.catalog.categories.values() if c.field})
        centers += [(f"field:{f}", self.field_name(f)) for f in fields]
        # Window-modal, not exec(): no nested event loop inside the console's asyncio loop.
        dialog = InviteDialog(centers, people, self.panel)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._invite_chosen(dialog))
        self.invite_dialog = dialog
        dialog.open()

    def _invite_chosen(self, dialog: InviteDialog) -> None:
        keys = dialog.selected()
        self.invite_dialog = None
        if keys:
            self._spawn(self._send_invite(keys))

    async def _send_invite(self, keys: list[str]) -> None:
        if await self._guard(self.service.invite(keys), "room"):
            names = "、".join(self.invite_label(k) for k in keys)
            self.panel.conference.show_status(self.tr("Invited: %1").replace("%1", names))

    async def _guest_link(self) -> None:
        try:
            link = await self.service.guest_link(self.tr("Guest"))
        except Exception as exc:
            self.panel.conference.show_status(self.tr("No guest link: %1").replace("%1", str(exc)), error=True)
            return
        QGuiApplication.clipboard().setText(link.url)
        self.panel.conference.show_status(
            self.tr("One-time guest link copied (valid 15 minutes): %1").replace("%1", link.url)
        )

    async def _leave(self) -> None:
        if await self._guard(self.service.leave(), "room"):
            self.panel.conference.show_status(self.tr("You left the conference"))

    async def _join_group(self, group: str) -> None:
        if await self._guard(self.service.join_group(group), "talk"):
            self.panel.talk.select_group(group)
            self.panel.talk.show_status(self.tr("Joined talk group %1").replace("%1", self.group_title(group)))

    async def _leave_group(self, group: str) -> None:
        if await self._guard(self.service.leave_group(group), "talk"):
            self.panel.talk.show_status(self.tr("Left talk group %1").replace("%1", self.group_title(group)))

    async def _press(self, group: str, emergency: bool) -> None:
        await self._guard(self.service.press(group, emergency=emergency), "talk")

    async def _release(self, group: str) -> None:
        await self._guard(self.service.release(group), "talk")

    async def _revoke(self, group: str) -> None:
        if await self._guard(self.service.revoke(group, "指挥员收回话权"), "talk"):
            self.panel.talk.show_status(self.tr("Floor taken back"))

    def _ptt_key_down(self) -> None:
        # As the button: the press goes to the selected group, its release to the same group
        # even when another is selected meanwhile.
        if not self.panel.talk.press_ptt():
            self.panel.talk.show_status(self.tr("Select a joined talk group to talk (F8)"), error=True)

    def _ptt_key_up(self) -> None:
        self.panel.talk.release_ptt()

    # -- the fused command session -------------------------------------------------------------
    def invitations_for(self, incident: Incident) -> list[str]:
        """Who an incident's command session brings together."""
        keys = ["district", f"street:{incident.location.street}"]
        field = (
            self.catalog.categories[incident.category].field if incident.category in self.catalog.categories else None
        )
        if field:
            keys.append(f"field:{field}")
        return keys

    def invite_label(self, key: str) -> str:
        """An invitation as the operator reads it (a center's name, not its key)."""
        if key == "district":
            return self.tr("District operations center")
        kind, _, name = key.partition(":")
        if kind == "user":
            return self._people_names.get(key, name)
        return self.group_title(key)

    async def open_command_session(self, incident: Incident) -> m.Room | None:
        """One action: a room about the incident, its talk group, its cameras on the wall, the
        map on the scene, the centers invited. Returns the room (None when refused)."""
        title = self.tr("Incident #%1 command: %2").replace("%1", str(incident.id)).replace("%2", incident.title)
        conference = self.panel.conference
        conference.show_status(self.tr("Opening the command session…"))
        if self.show_panel is not None:
            self.show_panel()
        if self.pin_cameras is not None:
            self.pin_cameras(incident)
        if self.focus_map is not None:
            self.focus_map(incident)
        try:
            room = await self.service.open_room(title[:80], incident=incident.id, invite=self.invitations_for(incident))
        except CallRefused as exc:
            conference.show_status(self.tr("Refused: %1").replace("%1", exc.reason), error=True)
            return None
        except Exception as exc:
            conference.show_status(self.tr("Not done: %1").replace("%1", str(exc) or type(exc).__name__), error=True)
            return None
        group = f"incident:{incident.id}"
        await self._guard(self.service.join_group(group), "talk")
        self.panel.talk.select_group(group)
        invited = "、".join(self.invite_label(k) for k in self.invitations_for(incident))
        conference.show_status(self.tr("Command session open: %1 invited").replace("%1", invited))
        self.refresh()
        return room
