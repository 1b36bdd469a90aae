"""The central server's HTTP and WebSocket interface.

* ``GET /healthz`` — status, last change number, incident count, connected consoles;
* ``POST /api/login`` — user and password → session token;
* ``POST /api/reports`` — the intake of reports from sensors, AI video, 12345 and patrols,
  authenticated by an intake key in ``X-API-Key``;
* ``GET/POST /api/devices``, ``POST /api/devices/state`` — the registry of sensors and
  cameras and their states (same key);
* ``WS /ws/sync`` — the console's sync channel (:mod:`comms.protocol`).

The OpenAPI schema is at ``/openapi.json`` and the interactive documentation at ``/docs``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from fastapi import FastAPI, Header, HTTPException, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, field_validator

from app.domain.catalog import Catalog
from app.domain.devices import Device, DeviceKind, DeviceState, DeviceStateChange
from app.domain.district import DistrictMap, GeoDataMissing, default_geo_dir, load_district
from app.domain.intake import Report, nearest_street
from app.domain.model import Severity, SourceChannel
from app.server.config import INTAKE_KEY_FILE, ServerConfig, write_secret
from app.server.hub import Hub
from app.server.passwords import verify_password
from app.server.sync import SyncSession
from app.server.writer import DeviceResult, IntakeResult, Writer
from app.storage.catalog_file import read_catalog
from app.storage.server_store import ServerStore

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
    attrs: dict[str, Any] = Field(default_factory=dict)


class DeviceStateIn(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    state: Literal["normal", "alarm", "offline", "fault"]
    at: float | None = Field(default=None, description="Epoch seconds; now if absent.")


class DeviceOut(DeviceIn):
    street: str
    last_seen: float
    updated_at: float


class DevicesAccepted(BaseModel):
    changed: int
    refused: list[dict[str, str]] = Field(description="Items refused: id, error code, message.")


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
        self.writer: Writer | None = None
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
            publish_devices=self.hub.publish_devices,
            district=self.district,
        )
        self.writer.start()
        self._checkpointer = asyncio.get_running_loop().create_task(self._checkpoints())
        # What exists at start lives as long as the server: keep it out of the collector's
        # way, so that full collections stay short on the write path.
        gc.collect()
        gc.freeze()

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
        try:
            result = await server.writer.submit_report(report)
        except RuntimeError as exc:
            raise HTTPException(503, {"error": "store_unavailable", "message": str(exc)}) from None
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
        try:
            results = await asyncio.gather(*(server.writer.submit_report(r) for r in reports))
        except RuntimeError as exc:
            raise HTTPException(503, {"error": "store_unavailable", "message": str(exc)}) from None
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
        devices = [_to_device(server, item) for item in body]
        assert server.writer is not None
        try:
            result = await server.writer.submit_devices(register=devices)
        except RuntimeError as exc:
            raise HTTPException(503, {"error": "store_unavailable", "message": str(exc)}) from None
        return _devices_accepted(result)

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
        try:
            result = await server.writer.submit_devices(states=changes)
        except RuntimeError as exc:
            raise HTTPException(503, {"error": "store_unavailable", "message": str(exc)}) from None
        return _devices_accepted(result)

    @app.websocket("/ws/sync")
    async def sync(websocket: WebSocket) -> None:
        await websocket.accept()
        assert server.writer is not None
        session = SyncSession(websocket, server.store, server.catalog, server.hub, server.writer)
        with contextlib.suppress(WebSocketDisconnect):
            await session.run()

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
