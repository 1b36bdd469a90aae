"""The central server's HTTP and WebSocket interface.

* ``GET /healthz`` — status, last change number, incident count, connected consoles;
* ``POST /api/login`` — user and password → session token;
* ``POST /api/reports`` — the intake of reports from sensors, AI video, 12345 and patrols,
  authenticated by an intake key in ``X-API-Key``;
* ``GET/POST /api/devices``, ``POST /api/devices/state`` — the registry of sensors and
  cameras and their states (same key);
* ``GET /api/evaluation`` — 综合评价 by unit, street or category, for a signed-in user's
  jurisdiction (``Authorization: Bearer <session token>``);
* ``GET /api/people`` — the directory a conference invites from (session token);
* ``GET /api/video/status``, ``GET /api/calls/status`` — the media hubs (intake key);
* ``WS /ws/sync`` — the console's sync channel (:mod:`comms.protocol`), which also carries the
  signaling of the video wall, the talk groups and the conference rooms;
* ``GET /call/{token}``, ``WS /ws/call/{token}`` — a browser guest's page and signaling
  (:mod:`app.server.guest`).

The OpenAPI schema is at ``/openapi.json`` and the interactive documentation at ``/docs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import msgspec
import yaml
from fastapi import FastAPI, Header, HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field, field_validator

from app.domain.alarms import load_rules
from app.domain.catalog import Catalog
from app.domain.devices import Device, DeviceKind, DeviceState, DeviceStateChange
from app.domain.district import DistrictMap, GeoDataMissing, default_geo_dir, load_district
from app.domain.evaluation import GroupBy, parse_period
from app.domain.evaluation import report as evaluation_report
from app.domain.indicators import load_indicators
from app.domain.intake import Report, nearest_street
from app.domain.model import Action, Severity, SourceChannel
from app.domain.permissions import SERVER, Principal, Role, Scope
from app.report.from_store import report_data
from app.server.calls import CallHub
from app.server.config import INTAKE_KEY_FILE, ServerConfig, write_secret
from app.server.guest import add_guest_routes
from app.server.hub import Hub
from app.server.passwords import verify_password
from app.server.sensors import Observation, SensorMonitor
from app.server.sync import SyncSession, principal_scope
from app.server.talk import TalkHub
from app.server.video import VideoHub
from app.server.writer import DeviceResult, IntakeResult, StoreUnavailable, Writer
from app.storage.catalog_file import read_catalog
from app.storage.server_store import ServerStore
from comms.protocol.messages import Command
from resources import ALARM_RULES_PATH, INDICATORS_PATH

log = logging.getLogger(__name__)

#: The district's surroundings; a report outside is surely a wrong coordinate.
BOUNDS = (121.0, 30.6, 122.2, 31.9)
#: Seconds between background checkpoints of the SQLite write-ahead log.
CHECKPOINT_INTERVAL_S = 0.25
#: How far ahead of the server's clock a report's time may be (clock skew), and how old.
MAX_CLOCK_AHEAD_S = 300.0
MAX_REPORT_AGE_S = 30 * 86400.0
#: The most reports one batch request may carry.
MAX_BATCH = 1000
#: Attached files: the server names them; the largest snapshot it takes.
ATTACHMENT_NAME: Final = re.compile(r"[0-9a-f]{32}\.(jpg|png)")
MAX_SNAPSHOT_BYTES = 8 * 1024 * 1024


class ApiError(BaseModel):
    error: str = Field(description="A stable machine-readable code.")
    message: str = Field(description="What is wrong, for a person.")
    detail: list[dict[str, Any]] | None = None


class LoginRequest(BaseModel):
    user: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class LoginResponse(BaseModel):
    token: str
    expires_at: float
    user: str
    role: str
    street: str | None
    field: str | None
    display_name: str


class ReportIn(BaseModel):
    """A report from one channel. ``report_id`` is the source's own id: posting the same
    report again is answered with the incident it already became."""

    report_id: str = Field(min_length=1, max_length=128, examples=["smoke:SMK-0042:20261124T101500"])
    source: Literal["sensor", "video_ai", "hotline_12345", "patrol", "citizen"]
    category: str = Field(
        min_length=1, max_length=64, description="A catalog category code.", examples=["fire.smoke_alarm"]
    )
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    lon: float = Field(ge=-180, le=180, description="WGS84 longitude.")
    lat: float = Field(ge=-90, le=90, description="WGS84 latitude.")
    street: str | None = Field(default=None, description="9-digit street code; derived from the location if absent.")
    address: str = Field(default="", max_length=400)
    observed_at: datetime | float | None = Field(
        default=None, description="When the source observed it (ISO 8601 or epoch seconds); now if absent."
    )
    severity: Literal["red", "orange", "yellow", "blue"] | None = Field(
        default=None, description="Overrides the category's default."
    )
    reporter: str = Field(default="", max_length=64, description="Sensor, camera, hotline order or patrol member id.")

    @field_validator("observed_at")
    @classmethod
    def _no_naive_times(cls, value: datetime | float | None) -> datetime | float | None:
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError("observed_at needs a time zone (e.g. +08:00 or Z)")
        return value


class ReportAccepted(BaseModel):
    incident_id: int
    seq: int = Field(description="The change that recorded it.")
    merged: bool = Field(description="True when the report joined an open incident nearby.")
    duplicate: bool = Field(description="True when this report_id had been received before.")
    status: str
    unit: str | None = Field(description="The responsible unit from the responsibility list.")


class DeviceIn(BaseModel):
    """A sensor or camera to register (or to replace, by ``id``)."""

    id: str = Field(min_length=1, max_length=64, examples=["SN-310107022-0012"])
    kind: Literal["sensor", "camera"]
    type: str = Field(min_length=1, max_length=32, examples=["smoke", "high_altitude"])
    name: str = Field(min_length=1, max_length=200)
    lon: float = Field(ge=-180, le=180, description="WGS84 longitude.")
    lat: float = Field(ge=-90, le=90, description="WGS84 latitude.")
    street: str | None = Field(default=None, description="9-digit street code; derived from the location if absent.")
    scenario: str = Field(default="", max_length=64, description="The catalog scenario the device serves.")
    state: Literal["normal", "alarm", "offline", "fault"] = "normal"
    attrs: dict[str, Any] = Field(
        default_factory=dict, description="Free attributes; cameras: ``tags``, a list of scenario tags."
    )
    source: str | None = Field(
        default=None,
        max_length=2000,
        description="Cameras: where the video comes from — ``synthetic:`` (the simulator's scene), a file, "
        "or a URL FFmpeg opens (rtsp://, http://). Kept on the server, never sent to consoles.",
    )
    sub_source: str | None = Field(
        default=None, max_length=2000, description="Cameras: the smaller sub-stream's URL, when the camera has one."
    )

    @field_validator("source", "sub_source")
    @classmethod
    def _source(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("a source must not be empty")
        return value


class DeviceStateIn(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    state: Literal["normal", "alarm", "offline", "fault"]
    at: float | None = Field(default=None, description="Epoch seconds; now if absent.")


class DeviceOut(DeviceIn):
    street: str
    source: None = Field(default=None, exclude=True)
    sub_source: None = Field(default=None, exclude=True)
    last_seen: float
    updated_at: float
    registered_at: float


class DevicesAccepted(BaseModel):
    changed: int
    refused: list[dict[str, str]] = Field(description="Items refused: id, error code, message.")


class ObservationIn(BaseModel):
    """One reading of a registered sensor, in its rule's metric and unit."""

    sensor_id: str = Field(min_length=1, max_length=64, examples=["WLG-005-01"])
    value: float = Field(allow_inf_nan=False)
    at: float | None = Field(default=None, description="Epoch seconds; now if absent.")


class ObservationsAccepted(BaseModel):
    accepted: int
    refused: list[dict[str, Any]] = Field(description="Readings refused: index, error code, message.")
    raised: list[dict[str, Any]] = Field(description="Alarms raised: sensor_id and the incident_id they went to.")
    cleared: list[str]


class SensorReviewOut(BaseModel):
    sensor_id: str
    name: str
    type: str
    street: str
    alarms: int
    false_alarms: int = Field(description="Alarms whose incident was found invalid (误报).")
    false_alarm_rate: float | None
    readings: int
    expected_readings: int
    last_seen: float
    reasons: list[str] = Field(description="false_alarms, little_use: why it is listed for adjustment.")


class Health(BaseModel):
    status: Literal["ok"]
    seq: int
    incidents: int
    consoles: int
    store: str
    started_at: float


def _error(status: int, code: str, message: str, detail: list[dict[str, Any]] | None = None) -> JSONResponse:
    return JSONResponse(
        ApiError(error=code, message=message, detail=detail).model_dump(exclude_none=True), status_code=status
    )


class Server:
    """Everything one server process holds: store, catalog, writer and hub."""

    def __init__(self, config: ServerConfig, catalog: Catalog | None = None) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.catalog = catalog or read_catalog(config.catalog_path)
        self.store = ServerStore(config.store_url)
        self.district = _load_district(config)
        self.hub = Hub(self.catalog)
        self.rules = load_rules(config.alarm_rules_path or ALARM_RULES_PATH, self.catalog.categories)
        self.indicators = load_indicators(yaml.safe_load(INDICATORS_PATH.read_text(encoding="utf-8")), self.catalog)
        self.sensors: SensorMonitor | None = None
        self.writer: Writer | None = None
        self.video: VideoHub | None = None
        self.talk = TalkHub(self._incident_scope, grace_s=config.call_grace_s)
        self.calls: CallHub | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._checkpointer: asyncio.Task[None] | None = None
        self.started_at = time.time()
        self._ensure_intake_key()

    def _ensure_intake_key(self) -> None:
        path = self.config.data_dir / INTAKE_KEY_FILE
        if not path.exists():
            write_secret(path, self.store.add_api_key("default"))

    async def start(self) -> None:
        self.writer = Writer(
            self.store,
            self.catalog,
            self.hub.publish,
            publish_devices=self._devices_published,
            district=self.district,
            attachment_exists=lambda incident_id, name: self.attachment_path(incident_id, name).is_file(),
        )
        self.writer.start()
        self.sensors = SensorMonitor(self.store, self.writer, self.catalog, self.rules)
        await self.sensors.start()
        self.video = VideoHub()
        self.talk.start()
        streets = {a.code: a.label("zh") for a in self.district.streets} if self.district is not None else {}
        fields: dict[str, str] = {}
        for unit in sorted(self.catalog.units.values(), key=lambda u: u.kind != "professional"):
            if unit.field and unit.kind != "street":
                fields.setdefault(unit.field, unit.name.zh)
        self.calls = CallHub(
            self._record_command, street_names=streets, field_names=fields, grace_s=self.config.call_grace_s
        )
        self.calls.start()
        self.talk.on_routes = self.calls.set_talk_routes
        self.talk.on_record = self._record_talk
        self._checkpointer = asyncio.get_running_loop().create_task(self._checkpoints())
        # What exists at start lives as long as the server: keep it out of the collector's
        # way, so that full collections stay short on the write path.
        gc.collect()
        gc.freeze()

    async def _record_command(self, incident_id: int, note: str) -> None:
        """A fused command session's event into the incident's timeline."""
        assert self.writer is not None
        command = Command(key=f"cmd-{uuid.uuid4().hex}", incident_id=incident_id, action=Action.COMMAND, note=note)
        result = await self.writer.submit_command(SERVER, Scope(everything=True), command)
        if result.code is not None:
            log.info("incident %s: %r not recorded (%s: %s)", incident_id, note, result.code, result.reason)

    def _record_talk(self, group: str, name: str, what: str) -> None:
        kind, _, ident = group.partition(":")
        if kind != "incident" or not ident.isdigit() or what != "emergency":
            return
        task = asyncio.get_running_loop().create_task(
            self._record_command(int(ident), f"{name} 在事件通话组发起紧急呼叫")
        )
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _incident_scope(self, incident_id: int) -> tuple[str, str, str | None] | None:
        incident = await asyncio.to_thread(self.store.incident, incident_id)
        if incident is None:
            return None
        return incident.location.street, incident.category, incident.unit

    def attachment_path(self, incident_id: int, name: str) -> Path:
        """Where an incident's attached file lives (``name`` as checked by :data:`ATTACHMENT_NAME`)."""
        if not ATTACHMENT_NAME.fullmatch(name):
            raise ValueError(f"not an attachment name: {name!r}")
        return self.config.data_dir / "attachments" / str(int(incident_id)) / name

    def _devices_published(self, devices: list[Device]) -> None:
        self.hub.publish_devices(devices)
        if self.sensors is not None:
            self.sensors.devices_changed(devices)

    async def _checkpoints(self) -> None:
        while True:
            await asyncio.sleep(CHECKPOINT_INTERVAL_S)
            try:
                await asyncio.to_thread(self.store.checkpoint)
            except Exception:
                log.exception("WAL checkpoint failed; will try again")

    async def stop(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.cancel()
        await self.talk.stop()
        if self.calls is not None:
            await asyncio.to_thread(self.calls.shutdown)
        if self.video is not None:
            await asyncio.to_thread(self.video.shutdown)
        if self.sensors is not None:
            await self.sensors.stop()
        if self.writer is not None:
            await self.writer.stop()
        self.store.close()


def create_app(config: ServerConfig) -> FastAPI:
    server = Server(config)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await server.start()
        log.info("server ready: %s, seq %d", config.store_url.split("@")[-1], server.store.last_seq())
        yield
        await server.stop()

    app = FastAPI(
        title="CityOps central server",
        version="1",
        description="Intake, login, health and the console sync channel of CityOps (一网统管).",
        lifespan=lifespan,
    )
    app.state.server = server

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
            problems.append({"field": where, "problem": str(e.get("msg", ""))})
        text = "; ".join(f"{p['field'] or 'body'}: {p['problem']}" for p in problems)
        return _error(422, "invalid_request", text or "the request is not valid", problems)

    @app.exception_handler(StoreUnavailable)
    async def _store(_request: Request, exc: StoreUnavailable) -> JSONResponse:
        return _error(503, "store_unavailable", str(exc))

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, dict) else {"error": "http_error", "message": str(exc.detail)}
        return JSONResponse(detail, status_code=exc.status_code)

    async def _check_key(key: str | None) -> None:
        if key and key in known_keys:
            return
        if not key or await asyncio.to_thread(server.store.api_key_name, key) is None:
            raise HTTPException(401, {"error": "unauthorized", "message": "missing or unknown X-API-Key"})
        known_keys.add(key)

    known_keys: set[str] = set()

    @app.get("/healthz", response_model=Health)
    async def healthz() -> Health:
        writer = server.writer
        seq = writer.published_seq if writer else server.store.last_seq()
        count = await asyncio.to_thread(server.store.incident_count)
        return Health(
            status="ok",
            seq=seq,
            incidents=count,
            consoles=server.hub.count,
            store=server.store.engine.dialect.name,
            started_at=server.started_at,
        )

    @app.post("/api/login", response_model=LoginResponse, responses={401: {"model": ApiError}})
    def login(body: LoginRequest) -> LoginResponse:
        stored = server.store.user(body.user)
        if stored is None or not verify_password(stored.password_hash, body.password):
            raise HTTPException(401, {"error": "unauthorized", "message": "wrong user name or password"})
        token = server.store.create_session(body.user, config.session_ttl_s)
        p = stored.principal
        return LoginResponse(
            token=token,
            expires_at=time.time() + config.session_ttl_s,
            user=p.name,
            role=p.role.value,
            street=p.street,
            field=p.field,
            display_name=p.display_name,
        )

    @app.post(
        "/api/reports",
        response_model=ReportAccepted,
        status_code=201,
        responses={401: {"model": ApiError}, 422: {"model": ApiError}, 503: {"model": ApiError}},
    )
    async def post_report(
        body: ReportIn, x_api_key: Annotated[str | None, Header(description="An intake key.")] = None
    ) -> ReportAccepted:
        await _check_key(x_api_key)
        report = _to_report(server.catalog, body)
        assert server.writer is not None
        result = await server.writer.submit_report(report)
        return _accepted(result)

    @app.post(
        "/api/reports/batch",
        response_model=list[ReportAccepted],
        status_code=201,
        responses={401: {"model": ApiError}, 422: {"model": ApiError}, 503: {"model": ApiError}},
    )
    async def post_reports(
        body: Annotated[list[ReportIn], Field(min_length=1, max_length=MAX_BATCH)],
        x_api_key: Annotated[str | None, Header(description="An intake key.")] = None,
    ) -> list[ReportAccepted]:
        """Several reports at once, as a sensor gateway sends them. All are checked first:
        one invalid report refuses the whole batch, naming its index."""
        await _check_key(x_api_key)
        reports = []
        for i, item in enumerate(body):
            try:
                reports.append(_to_report(server.catalog, item))
            except HTTPException as exc:
                detail: dict[str, Any] = dict(exc.detail) if isinstance(exc.detail, dict) else {}
                detail["message"] = f"report [{i}]: {detail.get('message', '')}"
                raise HTTPException(422, detail) from None
        assert server.writer is not None
        results = await asyncio.gather(*(server.writer.submit_report(r) for r in reports))
        return [_accepted(r) for r in results]

    @app.get("/api/devices", response_model=list[DeviceOut], responses={401: {"model": ApiError}})
    async def get_devices(
        x_api_key: Annotated[str | None, Header(description="An intake key.")] = None,
    ) -> list[DeviceOut]:
        await _check_key(x_api_key)
        found = await asyncio.to_thread(server.store.devices)
        return [DeviceOut.model_validate(msgspec.to_builtins(d)) for d in found]

    @app.post(
        "/api/devices",
        response_model=DevicesAccepted,
        responses={401: {"model": ApiError}, 422: {"model": ApiError}, 503: {"model": ApiError}},
    )
    async def post_devices(
        body: Annotated[list[DeviceIn], Field(min_length=1, max_length=MAX_BATCH)],
        x_api_key: Annotated[str | None, Header(description="An intake key.")] = None,
    ) -> DevicesAccepted:
        """Register sensors and cameras (an existing id is replaced). Items the registry cannot
        place (unknown street or scenario) are refused one by one, the others are taken."""
        await _check_key(x_api_key)
        for i, item in enumerate(body):
            if item.kind != "camera" and (item.source or item.sub_source):
                raise HTTPException(
                    422,
                    {
                        "error": "invalid_request",
                        "message": f"device [{i}] {item.id}: only cameras have a video source",
                    },
                )
        devices = [_to_device(server, item) for item in body]
        assert server.writer is not None
        result = await server.writer.submit_devices(register=devices)
        refused = {i for i, _, _ in result.refused}
        sources = [(b.id, b.source, b.sub_source) for b in body if b.source and b.id not in refused]
        if sources:
            await asyncio.to_thread(server.store.set_camera_sources, sources, time.time())
        return _devices_accepted(result)

    @app.get("/api/calls/status", responses={401: {"model": ApiError}})
    async def get_calls_status(
        x_api_key: Annotated[str | None, Header(description="An intake key.")] = None,
    ) -> dict[str, Any]:
        """The call hub: rooms and their members, each participant's media channel (codec,
        packets and pictures forwarded, subscribers), the talk links and the talk routes."""
        await _check_key(x_api_key)
        return {} if server.calls is None else await server.calls.status()

    @app.get("/api/video/status", responses={401: {"model": ApiError}})
    async def get_video_status(
        x_api_key: Annotated[str | None, Header(description="An intake key.")] = None,
    ) -> list[dict[str, Any]]:
        """The media hub's pulled cameras: state, how often each source was opened, pictures
        read and encoded, and the viewers per variant."""
        await _check_key(x_api_key)
        return [] if server.video is None else await server.video.status()

    @app.post(
        "/api/devices/state",
        response_model=DevicesAccepted,
        responses={401: {"model": ApiError}, 422: {"model": ApiError}, 503: {"model": ApiError}},
    )
    async def post_device_states(
        body: Annotated[list[DeviceStateIn], Field(min_length=1, max_length=MAX_BATCH)],
        x_api_key: Annotated[str | None, Header(description="An intake key.")] = None,
    ) -> DevicesAccepted:
        """Device states (normal, alarm, offline, fault). Unknown devices and states older than
        the one known are refused by item."""
        await _check_key(x_api_key)
        now = time.time()
        changes = [DeviceStateChange(id=b.id, state=DeviceState(b.state), at=b.at or now) for b in body]
        assert server.writer is not None
        result = await server.writer.submit_devices(states=changes)
        return _devices_accepted(result)

    @app.post(
        "/api/observations",
        response_model=ObservationsAccepted,
        responses={401: {"model": ApiError}, 422: {"model": ApiError}, 503: {"model": ApiError}},
    )
    async def post_observations(
        body: Annotated[list[ObservationIn], Field(min_length=1, max_length=MAX_BATCH)],
        x_api_key: Annotated[str | None, Header(description="An intake key.")] = None,
    ) -> ObservationsAccepted:
        """Sensor readings, in order. Each runs through its sensor type's alarm rule
        (threshold, duration, hysteresis); a raised alarm opens or joins an incident. Readings
        of unknown sensors are refused one by one."""
        await _check_key(x_api_key)
        assert server.sensors is not None
        now = time.time()
        readings = []
        for i, item in enumerate(body):
            at = now if item.at is None else item.at
            if at > now + MAX_CLOCK_AHEAD_S:
                raise HTTPException(
                    422, {"error": "invalid_request", "message": f"reading [{i}]: at is in the future; check the clock"}
                )
            readings.append(Observation(item.sensor_id, item.value, at))
        result = await server.sensors.observe(readings)
        return ObservationsAccepted(
            accepted=result.accepted,
            refused=[{"index": i, "error": code, "message": reason} for i, code, reason in result.refused],
            raised=[{"sensor_id": sensor, "incident_id": incident} for sensor, incident in result.raised],
            cleared=result.cleared,
        )

    @app.get("/api/sensors/review", response_model=list[SensorReviewOut], responses={401: {"model": ApiError}})
    async def sensors_review(
        days: Annotated[float, Query(gt=0, le=366)] = 30.0,
        max_false_rate: Annotated[float, Query(ge=0, le=1)] = 0.3,
        min_alarms: Annotated[int, Query(ge=1)] = 3,
        min_use: Annotated[float, Query(ge=0, le=1)] = 0.5,
        flagged_only: bool = False,
        x_api_key: Annotated[str | None, Header(description="An intake key.")] = None,
    ) -> list[SensorReviewOut]:
        """Every sensor's alarms, false alarms (误报: the incident was found invalid), false-alarm
        rate, readings and last reading over the last ``days``; ``reasons`` lists it for
        adjustment when its false-alarm rate is over ``max_false_rate`` (with at least
        ``min_alarms`` alarms) or it sent fewer than ``min_use`` of its expected readings."""
        await _check_key(x_api_key)
        assert server.sensors is not None
        now = time.time()
        rows = await server.sensors.review(now - days * 86400.0, now, max_false_rate, min_alarms, min_use)
        return [
            SensorReviewOut(**{**dataclasses.asdict(r), "reasons": list(r.reasons)})
            for r in rows
            if r.reasons or not flagged_only
        ]

    @app.websocket("/ws/sync")
    async def sync(websocket: WebSocket) -> None:
        await websocket.accept()
        assert server.writer is not None
        session = SyncSession(
            websocket,
            server.store,
            server.catalog,
            server.hub,
            server.writer,
            server.video,
            server.talk,
            server.calls,
        )
        with contextlib.suppress(WebSocketDisconnect):
            await session.run()

    _add_evaluation(app, server)
    _add_report(app, server)
    _add_people(app, server)
    _add_attachments(app, server)
    add_guest_routes(app, lambda: server.calls)
    return app


def _load_district(config: ServerConfig) -> DistrictMap | None:
    """The map layers for streets and grid codes at intake; without them the server says so
    and falls back to the nearest street office and synthetic cell codes."""
    own = config.data_dir / "geo"
    folder = config.geo_dir or (own if (own / "manifest.json").exists() else default_geo_dir())
    try:
        return load_district(folder)
    except GeoDataMissing as exc:
        log.warning("%s; streets come from the nearest street office and grid codes are synthetic", exc)
        return None


def _to_device(server: Server, body: DeviceIn) -> Device:
    street = body.street
    if street is None:
        street = (server.district.street_at(body.lon, body.lat) if server.district else None) or nearest_street(
            server.catalog, body.lon, body.lat
        )
    return Device(
        id=body.id,
        kind=DeviceKind(body.kind),
        type=body.type,
        name=body.name,
        lon=body.lon,
        lat=body.lat,
        street=street,
        scenario=body.scenario,
        state=DeviceState(body.state),
        attrs=body.attrs,
    )


def _devices_accepted(result: DeviceResult) -> DevicesAccepted:
    return DevicesAccepted(
        changed=len(result.changed),
        refused=[{"id": i, "error": code, "message": reason} for i, code, reason in result.refused],
    )


def _accepted(result: IntakeResult) -> ReportAccepted:
    return ReportAccepted(
        incident_id=result.incident_id,
        seq=result.seq,
        merged=result.merged,
        duplicate=result.duplicate,
        status=result.status,
        unit=result.unit,
    )


def _to_report(catalog: Catalog, body: ReportIn) -> Report:
    def invalid(field: str, message: str) -> HTTPException:
        return HTTPException(
            422,
            {
                "error": "invalid_request",
                "message": f"{field}: {message}",
                "detail": [{"field": field, "problem": message}],
            },
        )

    if body.category not in catalog.categories:
        raise invalid("category", f"unknown category {body.category!r}; see the catalog")
    if body.street is not None and body.street not in catalog.streets:
        raise invalid("street", f"unknown street {body.street!r}; expected one of {', '.join(sorted(catalog.streets))}")
    if not (BOUNDS[0] <= body.lon <= BOUNDS[2] and BOUNDS[1] <= body.lat <= BOUNDS[3]):
        raise invalid("lon/lat", f"({body.lon}, {body.lat}) is far outside the district")
    now = time.time()
    if body.observed_at is None:
        observed = now
    elif isinstance(body.observed_at, datetime):
        observed = body.observed_at.timestamp()
    else:
        observed = float(body.observed_at)
    # Deadlines and merge windows run from this time: a source with a wrong clock must not
    # open incidents that are overdue on arrival, or from the future.
    if observed > now + MAX_CLOCK_AHEAD_S:
        raise invalid("observed_at", "is in the future; check the source's clock")
    if observed < now - MAX_REPORT_AGE_S:
        raise invalid("observed_at", f"is more than {MAX_REPORT_AGE_S // 86400:.0f} days old")
    return Report(
        report_id=body.report_id,
        source=SourceChannel(body.source),
        category=body.category,
        title=body.title,
        description=body.description,
        lon=body.lon,
        lat=body.lat,
        street=body.street,
        address=body.address,
        observed_at=observed,
        severity=Severity.parse(body.severity) if body.severity else None,
        reporter=body.reporter,
    )


# -- 综合评价: GET /api/evaluation ---------------------------------------------------------------


class EvaluationPeriod(BaseModel):
    label: str
    start: str = Field(description="First instant, Shanghai local time (ISO 8601).")
    end: str = Field(description="First instant after the period.")
    start_epoch: float
    end_epoch: float


class EvaluationRowOut(BaseModel):
    """One unit, street or category. Rates are fractions, null when the denominator is 0;
    times are average seconds per case. See ``definitions``."""

    key: str | None = Field(description="Unit, street or category code; null: cases without a unit.")
    name: dict[str, str] = Field(description="The name in Chinese (zh) and English (en).")
    registered: int
    due_to_close: int
    closed: int
    closed_on_time: int
    due_to_handle: int
    handled: int
    handled_on_time: int
    reworked: int
    overdue: int
    overdue_open: int
    close_rate: float | None
    on_time_close_rate: float | None
    handle_rate: float | None
    on_time_handle_rate: float | None
    rework_rate: float | None
    avg_register_s: float | None
    avg_dispatch_s: float | None
    avg_handle_s: float | None
    avg_verify_s: float | None


class EvaluationOut(BaseModel):
    period: EvaluationPeriod
    as_of: str
    as_of_epoch: float
    group_by: Literal["unit", "street", "category"]
    rows: list[EvaluationRowOut]
    definitions: dict[str, dict[str, str]] = Field(description="Each figure's standard term and definition.")
    standards: str


async def _session_principal(server: Server, authorization: str | None) -> Principal:
    """The signed-in user of an ``Authorization: Bearer <session token>`` header, or a 401."""
    scheme, _, token = (authorization or "").partition(" ")
    principal = (
        await asyncio.to_thread(server.store.session_user, token.strip())
        if scheme.lower() == "bearer" and token.strip()
        else None
    )
    if principal is None:
        raise HTTPException(
            401, {"error": "unauthorized", "message": "missing, unknown or expired session token; log in again"}
        )
    return principal


#: Who may have the district's health check report (it covers every street).
REPORT_ROLES: Final = frozenset({Role.DISTRICT_OFFICER, Role.ADMIN, Role.AUDITOR, Role.TRAINER})


class Person(BaseModel):
    name: str
    display_name: str
    role: str
    street: str | None = None
    field: str | None = None


def _add_people(app: FastAPI, server: Server) -> None:
    @app.get("/api/people", responses={401: {"model": ApiError}})
    async def get_people(
        authorization: Annotated[str | None, Header(description="Bearer <session token> from /api/login.")] = None,
    ) -> list[Person]:
        """The people who sign in to the consoles (name, role, street or field): the directory
        a conference invites a person from."""
        await _session_principal(server, authorization)
        people = await asyncio.to_thread(server.store.people)
        return [
            Person(
                name=p.name, display_name=p.display_name or p.name, role=p.role.value, street=p.street, field=p.field
            )
            for p in people
        ]


def _add_report(app: FastAPI, server: Server) -> None:
    @app.get(
        "/api/report/data", responses={401: {"model": ApiError}, 403: {"model": ApiError}, 422: {"model": ApiError}}
    )
    async def get_report_data(
        period: Annotated[str, Query(description="today, YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD (Shanghai).")] = "today",
        authorization: Annotated[str | None, Header(description="Bearer <session token> from /api/login.")] = None,
    ) -> Response:
        """The figures of the city health check report (城市体检报告) for the period, the same
        as ``cityops report`` gathers: the console renders them to PDF and HTML."""
        principal = await _session_principal(server, authorization)
        if principal.role not in REPORT_ROLES:
            raise HTTPException(
                403, {"error": "forbidden", "message": "the health check report covers the whole district"}
            )
        now = time.time()
        try:
            chosen = parse_period(period, now)
        except ValueError as exc:
            raise HTTPException(422, {"error": "invalid_request", "message": f"period: {exc}"}) from None
        data = await asyncio.to_thread(
            report_data, server.store, server.catalog, chosen, indicators=server.indicators, rules=server.rules
        )
        return Response(msgspec.json.encode(data), media_type="application/json")


class SnapshotAccepted(BaseModel):
    incident_id: int
    seq: int
    attachment: str = Field(description="The file's name; GET /api/incidents/{id}/attachments/{name} serves it.")


def _add_attachments(app: FastAPI, server: Server) -> None:
    @app.post(
        "/api/incidents/{incident_id}/snapshots",
        response_model=SnapshotAccepted,
        status_code=201,
        responses={
            401: {"model": ApiError},
            409: {"model": ApiError},
            413: {"model": ApiError},
            415: {"model": ApiError},
        },
    )
    async def post_snapshot(
        incident_id: int,
        request: Request,
        key: Annotated[str, Query(min_length=8, max_length=64, description="Idempotency key: a retry is taken once.")],
        camera: Annotated[str, Query(min_length=1, max_length=64, description="The camera the picture is from.")],
        caption: Annotated[str, Query(max_length=200)] = "",
        authorization: Annotated[str | None, Header(description="Bearer <session token> from /api/login.")] = None,
    ) -> SnapshotAccepted:
        """Attach a picture (JPEG or PNG, the body) taken from a camera to an incident: the file
        is kept, and an ``attach`` entry naming it goes into the incident's timeline, through the
        same workflow and permissions as any command."""
        principal = await _session_principal(server, authorization)
        data = await request.body()
        if len(data) > MAX_SNAPSHOT_BYTES:
            raise HTTPException(
                413, {"error": "too_large", "message": f"a snapshot may have {MAX_SNAPSHOT_BYTES} bytes"}
            )
        if data.startswith(b"\xff\xd8\xff"):
            ext = "jpg"
        elif data.startswith(b"\x89PNG\r\n\x1a\n"):
            ext = "png"
        else:
            raise HTTPException(
                415, {"error": "unsupported_media", "message": "a snapshot must be a JPEG or PNG picture"}
            )
        name = f"{uuid.uuid5(uuid.NAMESPACE_URL, f'{principal.name}/{incident_id}/{key}').hex}.{ext}"
        path = server.attachment_path(incident_id, name)
        fresh = not path.exists()
        if fresh:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            await asyncio.to_thread(tmp.write_bytes, data)
            tmp.replace(path)
        note = f"视频快照 {camera}" + (f" {caption}" if caption else "")
        command = Command(
            key=f"attach-{key}", incident_id=incident_id, action=Action.ATTACH, note=note, attachment=name
        )
        assert server.writer is not None
        result = await server.writer.submit_command(principal, principal_scope(server.catalog, principal), command)
        if result.code is not None:
            if fresh:
                path.unlink(missing_ok=True)
            status = 403 if result.code == "forbidden" else 404 if result.code == "not_found" else 409
            raise HTTPException(status, {"error": result.code, "message": result.reason or ""})
        return SnapshotAccepted(incident_id=incident_id, seq=result.seq, attachment=name)

    @app.get(
        "/api/incidents/{incident_id}/attachments/{name}",
        responses={401: {"model": ApiError}, 404: {"model": ApiError}},
    )
    async def get_attachment(
        incident_id: int,
        name: str,
        authorization: Annotated[str | None, Header(description="Bearer <session token> from /api/login.")] = None,
    ) -> Response:
        """A file attached to an incident this user may see."""
        principal = await _session_principal(server, authorization)
        missing = HTTPException(404, {"error": "not_found", "message": "no such attachment"})
        if not ATTACHMENT_NAME.fullmatch(name):
            raise missing
        incident = await asyncio.to_thread(server.store.incident, incident_id)
        scope = principal_scope(server.catalog, principal)
        if incident is None or not scope.contains(incident.location.street, incident.category, incident.unit):
            raise missing
        path = server.attachment_path(incident_id, name)
        if not path.is_file():
            raise missing
        media = "image/jpeg" if name.endswith(".jpg") else "image/png"
        return Response(await asyncio.to_thread(path.read_bytes), media_type=media)


def _add_evaluation(app: FastAPI, server: Server) -> None:
    @app.get(
        "/api/evaluation",
        response_model=EvaluationOut,
        responses={401: {"model": ApiError}, 422: {"model": ApiError}},
    )
    async def get_evaluation(
        start: Annotated[str, Query(description="today, or the first day, YYYY-MM-DD (Shanghai).")],
        end: Annotated[str | None, Query(description="The last day, included; default: start.")] = None,
        by: Literal["unit", "street", "category"] = "unit",
        authorization: Annotated[str | None, Header(description="Bearer <session token> from /api/login.")] = None,
    ) -> EvaluationOut:
        """综合评价 of the cases registered (立案) in the period: 结案率, 按期结案率, 处置率,
        按期处置率, 返工率, overdue cases and the average time per stage, one row per unit,
        street or category, within the signed-in user's jurisdiction (a street operator sees
        its street's cases only)."""
        principal = await _session_principal(server, authorization)
        now = time.time()
        try:
            period = parse_period(start if end is None else f"{start}..{end}", now)
        except ValueError as exc:
            raise HTTPException(
                422,
                {
                    "error": "invalid_request",
                    "message": str(exc),
                    "detail": [{"field": "start/end", "problem": str(exc)}],
                },
            ) from None
        group_by = GroupBy(by)
        rows = await asyncio.to_thread(
            server.store.evaluate,
            period.start,
            period.end,
            group_by,
            as_of=now,
            scope=principal_scope(server.catalog, principal),
        )
        return EvaluationOut.model_validate(evaluation_report(rows, period, group_by, now, server.catalog))
