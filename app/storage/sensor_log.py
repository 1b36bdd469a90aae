"""What the server keeps of the sensors beyond the device registry: each alarm raised (and the
incident it went to), and how many readings each sensor sent per day. From these come the
per-sensor figures of the seed's 二.(三).9 — alarms, alarms closed as false (误报), the
false-alarm rate, use — and the list of sensors to adjust.

Writes are small and rare (an alarm; the day's counts every few minutes), each in its own short
transaction beside the writer's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Engine, Float, Integer, MetaData, String, Table, func, select

from app.storage.server_store import incidents

metadata = MetaData()

sensor_alarms = Table(
    "sensor_alarms",
    metadata,
    Column("sensor_id", String(64), primary_key=True),
    Column("raised_at", Float, primary_key=True),
    Column("incident_id", BigInteger, nullable=False),
    Column("value", Float, nullable=False),
    Column("cleared_at", Float, nullable=True),
)

sensor_days = Table(
    "sensor_days",
    metadata,
    Column("sensor_id", String(64), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("readings", Integer, nullable=False),
)


@dataclass(frozen=True)
class SensorFigures:
    """One sensor's alarms and use over a period."""

    sensor_id: str
    alarms: int
    false_alarms: int
    readings: int


class SensorLog:
    """The alarm and use records, on the server store's engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    def record_alarm(self, sensor_id: str, raised_at: float, incident_id: int, value: float) -> None:
        with self.engine.begin() as conn:
            exists = conn.execute(
                select(func.count())
                .select_from(sensor_alarms)
                .where(sensor_alarms.c.sensor_id == sensor_id, sensor_alarms.c.raised_at == raised_at)
            ).scalar_one()
            if not exists:
                conn.execute(
                    sensor_alarms.insert().values(
                        sensor_id=sensor_id, raised_at=raised_at, incident_id=incident_id, value=value
                    )
                )

    def record_clear(self, sensor_id: str, raised_at: float, cleared_at: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sensor_alarms.update()
                .where(sensor_alarms.c.sensor_id == sensor_id, sensor_alarms.c.raised_at == raised_at)
                .values(cleared_at=cleared_at)
            )

    def add_readings(self, counts: Mapping[tuple[str, str], int]) -> None:
        """Add reading counts by (sensor, local day ``YYYY-MM-DD``)."""
        if not counts:
            return
        with self.engine.begin() as conn:
            for (sensor_id, day), n in counts.items():
                updated = conn.execute(
                    sensor_days.update()
                    .where(sensor_days.c.sensor_id == sensor_id, sensor_days.c.day == day)
                    .values(readings=sensor_days.c.readings + n)
                ).rowcount
                if not updated:
                    conn.execute(sensor_days.insert().values(sensor_id=sensor_id, day=day, readings=n))

    def figures(self, since: float, until: float, first_day: str, last_day: str) -> dict[str, SensorFigures]:
        """Per sensor: alarms raised in [since, until), those whose incident was found invalid
        (误报), and readings on the local days first_day..last_day."""
        alarms: dict[str, tuple[int, int]] = {}
        readings: dict[str, int] = {}
        with self.engine.connect() as conn:
            false = func.sum(func.coalesce((incidents.c.status == "invalid").cast(Integer), 0))
            query = (
                select(sensor_alarms.c.sensor_id, func.count(), false)
                .select_from(sensor_alarms.outerjoin(incidents, incidents.c.id == sensor_alarms.c.incident_id))
                .where(sensor_alarms.c.raised_at >= since, sensor_alarms.c.raised_at < until)
                .group_by(sensor_alarms.c.sensor_id)
            )
            for sensor_id, n, n_false in conn.execute(query):
                alarms[str(sensor_id)] = (int(n), int(n_false or 0))
            days = (
                select(sensor_days.c.sensor_id, func.sum(sensor_days.c.readings))
                .where(sensor_days.c.day >= first_day, sensor_days.c.day <= last_day)
                .group_by(sensor_days.c.sensor_id)
            )
            for sensor_id, n in conn.execute(days):
                readings[str(sensor_id)] = int(n or 0)
        ids: Sequence[str] = sorted(set(alarms) | set(readings))
        return {
            i: SensorFigures(i, alarms.get(i, (0, 0))[0], alarms.get(i, (0, 0))[1], readings.get(i, 0)) for i in ids
        }
