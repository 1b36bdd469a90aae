"""The server's single writer: every change to incidents goes through here, in order.

Jobs (intake reports and console commands) queue up; the writer takes what has gathered, applies
it in one transaction on a worker thread, commits, and only then acknowledges each job and
publishes the changes. One fsync covers a whole batch, so the server keeps up with bursts
without giving up durability, and one writer means sequence numbers are gap-free and conflicts
are decided by the workflow table in arrival order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import msgspec

from app.domain import devices as domain_devices
from app.domain import intake as domain_intake
from app.domain import permissions, workflow
from app.domain.catalog import Catalog
from app.domain.devices import Device, DeviceStateChange
from app.domain.district import DistrictMap
from app.domain.geo import degree_box
from app.domain.intake import Report
from app.domain.model import Action, Incident
from app.domain.permissions import PermissionDenied, Principal, Scope
from app.domain.records import Record
from app.storage.server_store import ServerStore, WriteBatch
from comms.protocol.messages import Command

log = logging.getLogger(__name__)

#: Actions a console may send as commands (reports come through intake).
COMMAND_ACTIONS = frozenset(Action) - {Action.REPORT, Action.ADD_REPORT}
MAX_BATCH = 500


class StoreUnavailable(RuntimeError):
    """A write batch was rolled back (the database refused it): nothing of it happened."""


@dataclass(frozen=True)
class Published:
    """A committed change, ready to fan out: the attributes visibility is decided on, and the
    record's JSON encoded once for every session."""

    seq: int
    street: str
    category: str
    unit: str | None
    record_json: bytes


@dataclass(frozen=True)
class IntakeResult:
    incident_id: int
    seq: int
    merged: bool
    duplicate: bool
    status: str
    unit: str | None


@dataclass(frozen=True)
class CommandResult:
    """An applied command (``code`` None) or a rejected one (``code`` and ``reason``)."""

    seq: int
    record: Record | None
    code: str | None = None
    reason: str | None = None


@dataclass
class _Job:
    future: asyncio.Future[Any]


@dataclass
class _IntakeJob(_Job):
    report: Report


@dataclass
class _CommandJob(_Job):
    principal: Principal
    scope: Scope
    command: Command


@dataclass
class _DeviceJob(_Job):
    register: list[Device]
    states: list[DeviceStateChange]


@dataclass(frozen=True)
class DeviceResult:
    """What a device job changed, and what it refused (``(id, code, reason)``)."""

    changed: list[Device]
    refused: list[tuple[str, str, str]]


@dataclass
class _BatchOutcome:
    results: list[Any] = field(default_factory=list)
    published: list[Published] = field(default_factory=list)
    devices: dict[str, Device] = field(default_factory=dict)


class Writer:
    """Applies intake reports and commands in order, durably, and publishes the changes."""

    def __init__(
        self,
        store: ServerStore,
        catalog: Catalog,
        publish: Callable[[int, list[Published]], None],
        clock: Callable[[], float] = time.time,
        *,
        publish_devices: Callable[[list[Device]], None] | None = None,
        district: DistrictMap | None = None,
        attachment_exists: Callable[[int, str], bool] | None = None,
    ) -> None:
        self.store = store
        #: Whether a file was uploaded to an incident (an ``attach`` command names one).
        self.attachment_exists = attachment_exists or (lambda _incident, _name: False)
        self.catalog = catalog
        self.publish = publish
        self.publish_devices = publish_devices
        self.district = district
        self.clock = clock
        self.seq = store.last_seq()
        self.published_seq = self.seq
        self._next_id = store.last_incident_id() + 1
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="cityops-writer")
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="cityops-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._executor.shutdown(wait=True)

    async def submit_report(self, report: Report) -> IntakeResult:
        future: asyncio.Future[IntakeResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_IntakeJob(future, report))
        return await future

    async def submit_command(self, principal: Principal, scope: Scope, command: Command) -> CommandResult:
        future: asyncio.Future[CommandResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_CommandJob(future, principal, scope, command))
        return await future

    async def submit_devices(
        self, register: list[Device] | None = None, states: list[DeviceStateChange] | None = None
    ) -> DeviceResult:
        """Register (insert or replace) devices and apply state changes, in order with the rest."""
        future: asyncio.Future[DeviceResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_DeviceJob(future, list(register or ()), list(states or ())))
        return await future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            start_seq = self.seq
            try:
                outcome = await loop.run_in_executor(self._executor, self._apply_batch, batch)
            except Exception as exc:  # the transaction rolled back: nothing of it happened
                self.seq = start_seq
                log.exception("write batch failed; %d jobs refused", len(batch))
                for job in batch:
                    if not job.future.done():
                        job.future.set_exception(StoreUnavailable(f"the store refused the write: {exc}"))
                continue
            if outcome.published:
                self.published_seq = self.seq
                self.publish(self.seq, outcome.published)
            if outcome.devices and self.publish_devices is not None:
                self.publish_devices(list(outcome.devices.values()))
            for job, result in zip(batch, outcome.results, strict=True):
                if not job.future.done():
                    job.future.set_result(result)

    # -- on the writer thread ----------------------------------------------------------------
    def _apply_batch(self, batch: list[_Job]) -> _BatchOutcome:
        outcome = _BatchOutcome()
        with self.store.engine.begin() as conn:
            writes = self.store.write_batch(conn)
            for job in batch:
                if isinstance(job, _IntakeJob):
                    outcome.results.append(self._intake(writes, job.report, outcome))
                elif isinstance(job, _CommandJob):
                    outcome.results.append(self._command(writes, job, outcome))
                elif isinstance(job, _DeviceJob):
                    outcome.results.append(self._devices(writes, job, outcome))
            writes.flush()
        return outcome

    def _write(
        self,
        conn: WriteBatch,
        incident: Incident,
        actor: str,
        action: str,
        at: float,
        is_new: bool,
        outcome: _BatchOutcome,
    ) -> tuple[int, Record]:
        self.seq += 1
        record, record_json = conn.write_change(self.seq, incident, actor=actor, action=action, at=at, is_new=is_new)
        outcome.published.append(
            Published(self.seq, incident.location.street, incident.category, incident.unit, record_json)
        )
        return self.seq, record

    def _intake(self, conn: WriteBatch, report: Report, outcome: _BatchOutcome) -> IntakeResult:
        now = self.clock()
        known = conn.report_incident(report.report_id)
        if known is not None:
            known_id, known_seq = known
            incident = conn.get_incident(known_id)
            assert incident is not None
            return IntakeResult(known_id, known_seq, False, True, incident.status.value, incident.unit)
        category = self.catalog.category(report.category)
        since = report.observed_at - category.merge.window_min * 60.0
        box = degree_box(report.lon, report.lat, category.merge.radius_m)
        candidates = conn.merge_candidates(report.category, since, box)
        target_id = domain_intake.merge_target(report, category, candidates)
        if target_id is not None:
            target = conn.get_incident(target_id)
            assert target is not None
            incident = domain_intake.merge_report(target, report, self.catalog, now)
            is_new = False
        else:
            incident = domain_intake.open_incident(report, self._next_id, self.catalog, now, district=self.district)
            self._next_id += 1
            is_new = True
        action = Action.ADD_REPORT if not is_new else Action.REPORT
        seq, _ = self._write(conn, incident, report.reporter or report.source.value, action.value, now, is_new, outcome)
        conn.record_report(report.report_id, incident.id, now, seq)
        return IntakeResult(incident.id, seq, not is_new, False, incident.status.value, incident.unit)

    def _devices(self, conn: WriteBatch, job: _DeviceJob, outcome: _BatchOutcome) -> DeviceResult:
        now = self.clock()
        refused: list[tuple[str, str, str]] = []
        changed: dict[str, Device] = {}
        for device in job.register:
            try:
                domain_devices.check_device(device, self.catalog)
            except domain_devices.DeviceError as exc:
                refused.append((device.id, exc.code, str(exc)))
                continue
            changed[device.id] = msgspec.structs.replace(device, updated_at=device.updated_at or now)
        if changed:
            earlier = {**conn.devices(list(changed)), **outcome.devices}
            for device_id, device in changed.items():
                first = earlier.get(device_id)
                registered = first.registered_at if first is not None and first.registered_at else now
                changed[device_id] = msgspec.structs.replace(device, registered_at=registered)
        if job.states:
            ids = [c.id for c in job.states if c.id not in changed and c.id not in outcome.devices]
            known = {**conn.devices(ids), **outcome.devices, **changed}
            for change in job.states:
                current = known.get(change.id)
                if current is None:
                    refused.append((change.id, "unknown_device", f"no device {change.id!r} is registered"))
                    continue
                after = domain_devices.apply_state(current, change)
                if after is None:
                    refused.append((change.id, "stale", f"device {change.id}: a newer state is already known"))
                    continue
                known[change.id] = changed[change.id] = after
        conn.put_devices(list(changed.values()))
        outcome.devices.update(changed)
        return DeviceResult(list(changed.values()), refused)

    def _command(self, conn: WriteBatch, job: _CommandJob, outcome: _BatchOutcome) -> CommandResult:
        cmd, principal = job.command, job.principal
        earlier = conn.command_outcome(cmd.key)
        if earlier is not None:
            seq, code, reason = earlier
            if code is not None:
                return CommandResult(seq, None, code, reason)
            # The same key again: the command was applied once; answer with where it stands now.
            return CommandResult(seq, conn.get_record(cmd.incident_id))
        now = self.clock()
        try:
            result = self._apply_command(conn, principal, job.scope, cmd, now, outcome)
        except (workflow.WorkflowError, PermissionDenied, LookupError) as exc:
            code = getattr(exc, "code", "not_found")
            reason = str(exc).strip("'\"")
            conn.record_command(cmd.key, principal.name, now, self.seq, code, reason)
            return CommandResult(self.seq, None, code, reason)
        conn.record_command(cmd.key, principal.name, now, result.seq, None, None)
        return result

    def _apply_command(
        self, conn: WriteBatch, principal: Principal, scope: Scope, cmd: Command, now: float, outcome: _BatchOutcome
    ) -> CommandResult:
        if cmd.action not in COMMAND_ACTIONS:
            raise workflow.MissingParameter(f"{cmd.action.value} is not a command; reports come through intake")
        incident = conn.get_incident(cmd.incident_id)
        if incident is None or not scope.contains(incident.location.street, incident.category, incident.unit):
            raise LookupError(f"incident {cmd.incident_id} does not exist or is outside your jurisdiction")
        loc = incident.location
        permissions.check(principal, cmd.action, scope, loc.street, incident.category, incident.unit)
        standard = self.catalog.standard_for(incident.category)
        if cmd.action is Action.DISPATCH and cmd.unit is not None and cmd.unit not in self.catalog.units:
            raise workflow.MissingParameter(f"unknown unit {cmd.unit!r}")
        unit = cmd.unit
        if cmd.action is Action.DISPATCH and unit is None:
            unit = incident.unit or self.catalog.route(incident.category, loc.street)
        if cmd.action is Action.MERGE:
            return self._merge(conn, principal, scope, cmd, incident, now, outcome)
        if cmd.action is Action.ATTACH and not (cmd.attachment and self.attachment_exists(incident.id, cmd.attachment)):
            raise workflow.MissingParameter("attach needs a file uploaded to the incident first")
        changed = workflow.apply(
            incident,
            cmd.action,
            actor=principal.name,
            at=now,
            standard=standard,
            note=cmd.note,
            unit=unit,
            attachment=cmd.attachment,
        )
        seq, record = self._write(conn, changed, principal.name, cmd.action.value, now, False, outcome)
        return CommandResult(seq, record)

    def _merge(
        self,
        conn: WriteBatch,
        principal: Principal,
        scope: Scope,
        cmd: Command,
        incident: Incident,
        now: float,
        outcome: _BatchOutcome,
    ) -> CommandResult:
        if cmd.target_id is None:
            raise workflow.MissingParameter("merge needs the incident to merge into")
        target = conn.get_incident(cmd.target_id)
        if target is None or not scope.contains(target.location.street, target.category, target.unit):
            raise LookupError(f"incident {cmd.target_id} does not exist or is outside your jurisdiction")
        standard = self.catalog.standard_for(incident.category)
        source = workflow.apply(
            incident, Action.MERGE, actor=principal.name, at=now, standard=standard, note=cmd.note, target_id=target.id
        )
        merged_target = target
        for report in incident.merged:
            merged_target = workflow.apply(
                merged_target,
                Action.ADD_REPORT,
                actor=principal.name,
                at=now,
                standard=self.catalog.standard_for(target.category),
                note=f"merged from incident {incident.id}: {cmd.note}".strip(": "),
                report=report,
            )
        seq, record = self._write(conn, source, principal.name, Action.MERGE.value, now, False, outcome)
        self._write(conn, merged_target, principal.name, Action.ADD_REPORT.value, now, False, outcome)
        return CommandResult(seq, record)
