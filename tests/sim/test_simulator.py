"""The report simulator: a deterministic, realistic stream, and a sender that keeps its rate and
survives whatever the server answers; then the real thing against a real server."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.domain.geo import distance_m
from app.server.api import ReportIn
from app.sim import simulator
from app.sim.simulator import CREEK, Planned, Summary, generate, local_hour, plan, send_reports
from app.storage.catalog_file import read_catalog
from support.server import REPO_ROOT, running_server, timeout_scale

#: 2026-11-24 10:00 in Shanghai (UTC+8): a weekday morning, 12345's busiest hours.
T0 = 1795485600.0
DAY = 86400.0
DISTRICT = (121.30, 31.19, 121.50, 31.32)
SOURCES = {"sensor", "video_ai", "hotline_12345", "patrol", "citizen"}


@pytest.fixture(scope="module")
def catalog() -> Any:
    return read_catalog()


def _shares(bodies: list[dict[str, Any]]) -> dict[str, float]:
    counts = Counter(b["source"] for b in bodies)
    return {s: counts[s] / len(bodies) for s in SOURCES}


# -- the stream --------------------------------------------------------------------------------


def test_t0_is_ten_in_the_morning_in_shanghai() -> None:
    assert local_hour(T0) == 10


def test_same_seed_same_stream_other_seed_other_stream() -> None:
    first = generate(7, 500, T0)
    assert first == generate(7, 500, T0)
    assert first != generate(8, 500, T0)
    # A shorter run is a prefix of a longer one.
    assert generate(7, 120, T0) == first[:120]


def test_every_body_is_a_valid_intake_report(catalog: Any) -> None:
    bodies = generate(7, 500, T0)
    for body in bodies:
        ReportIn.model_validate(body)  # the server's own request model
        assert body["source"] in SOURCES
        assert body["category"] in catalog.categories
        assert body["street"] in catalog.streets
        assert re.fullmatch(r"\d{9}", body["street"])
        assert DISTRICT[0] <= body["lon"] <= DISTRICT[2], body
        assert DISTRICT[1] <= body["lat"] <= DISTRICT[3], body
        assert body["title"] and body["description"] and body["address"] and body["reporter"]
        assert abs(body["observed_at"] - T0) < 3600, "observed around the simulated time"
        # Chinese titles and descriptions.
        assert re.search(r"[\u4e00-\u9fff]", body["title"])
        assert re.search(r"[\u4e00-\u9fff]", body["description"])
    # Every street is covered.
    assert {b["street"] for b in bodies} == set(catalog.streets)


def test_the_categories_asked_for_all_occur() -> None:
    bodies = generate(7, 3000, T0 - 10 * 3600, rate=3000 / DAY)  # one whole day
    seen = {(b["source"], b["category"]) for b in bodies}
    for code in (
        "fire.smoke_alarm",
        "creek.water_level_high",
        "facilities.manhole_cover",
        "construction.dust",
        "construction.noise_night",
    ):
        assert ("sensor", code) in seen, code
    for code in (
        "safety.object_thrown_from_height",
        "creek.floating_waste",
        "creek.bicycle_on_walk",
    ):
        assert ("video_ai", code) in seen, code
    for code in (
        "appearance.garbage_overflow",
        "facilities.road_damage",
        "facilities.street_lamp",
        "order.illegal_parking_nonmotor",
        "order.street_vending",
        "housing.illegal_construction",
        "housing.group_renting",
        "fire.fire_lane_blocked",
        "order.noise_complaint",
        "greening.tree_fallen",
    ):
        assert ("hotline_12345", code) in seen, code
    assert {c for s, c in seen if s == "patrol"} >= {
        "appearance.garbage_overflow",
        "order.illegal_parking_nonmotor",
        "facilities.road_damage",
    }


def test_channel_mix_over_a_day_is_as_specified() -> None:
    n = 4000
    bodies = generate(11, n, T0 - 10 * 3600, rate=n / DAY)
    shares = _shares(bodies)
    expected = {
        "sensor": 0.35,
        "video_ai": 0.20,
        "hotline_12345": 0.30,
        "patrol": 0.12,
        "citizen": 0.03,
    }
    for source, share in expected.items():
        assert shares[source] == pytest.approx(share, abs=0.04), (source, shares)


def test_channel_mix_in_a_short_run_has_every_channel() -> None:
    shares = _shares(generate(7, 500, T0))
    assert all(shares[s] > 0 for s in SOURCES), shares
    assert 0.1 < shares["sensor"] < 0.5 and 0.05 < shares["video_ai"] < 0.35


def test_12345_orders_follow_the_daily_profile() -> None:
    night = _shares(generate(5, 1500, T0 - 7 * 3600))  # 03:00
    morning = _shares(generate(5, 1500, T0))  # 10:00
    assert night["hotline_12345"] < 0.12
    assert morning["hotline_12345"] > 0.35
    assert night["sensor"] > morning["sensor"]


def test_construction_noise_at_night_only_and_dust_by_day() -> None:
    n = 6000
    planned = [p for p in plan(3, n, T0 - 10 * 3600, rate=n / DAY) if p.kind == "new"]
    noise_hours = {_slot_hour(p.body) for p in planned if _sensor(p.body, "noise_night")}
    dust_hours = {_slot_hour(p.body) for p in planned if _sensor(p.body, "dust")}
    assert noise_hours and noise_hours <= {22, 23, 0, 1, 2, 3, 4, 5}
    assert dust_hours and dust_hours <= set(range(6, 22))


def _sensor(body: dict[str, Any], what: str) -> bool:
    return bool(body["source"] == "sensor" and body["category"] == f"construction.{what}")


def _slot_hour(body: dict[str, Any]) -> int:
    """The local hour of the report's slot, from its report_id (…:20261124T101503.120#17)."""
    match = re.search(r":\d{8}T(\d{2})\d{4}\.\d{3}#\d+$", body["report_id"])
    assert match, body["report_id"]
    return int(match.group(1))


def test_duplicates_and_retries(catalog: Any) -> None:
    planned = plan(7, 500, T0)
    kinds = Counter(p.kind for p in planned)
    assert 0.06 <= kinds["duplicate"] / len(planned) <= 0.15, kinds
    assert kinds["retry"] >= 3, kinds
    by_index = {p.index: p for p in planned}
    for p in planned:
        if p.kind == "new":
            continue
        assert p.of is not None and p.of < p.index
        original = by_index[p.of]
        if p.kind == "retry":
            assert p.body == original.body  # the very same report, posted again
            continue
        body, first = p.body, original.body
        assert body["report_id"] != first["report_id"]
        assert body["category"] == first["category"]
        gap = distance_m(body["lon"], body["lat"], first["lon"], first["lat"])
        radius = catalog.category(body["category"]).merge.radius_m
        assert gap <= min(15.0, 0.5 * radius) + 0.5, (gap, body, first)
        window = catalog.category(body["category"]).merge.window_min * 60
        assert abs(body["observed_at"] - first["observed_at"]) < window
    # Apart from retries, every report_id is new.
    ids = [p.body["report_id"] for p in planned if p.kind != "retry"]
    assert len(ids) == len(set(ids))
    # Some second reports come from another channel than the first.
    assert any(p.kind == "duplicate" and p.body["source"] != by_index[p.of or 0].body["source"] for p in planned)


def test_devices_have_fixed_ids_and_places(catalog: Any) -> None:
    planned = plan(7, 2000, T0)
    places: dict[str, set[tuple[float, float]]] = defaultdict(set)
    for p in planned:
        body = p.body
        if body["source"] == "sensor":
            places[body["reporter"]].add((body["lon"], body["lat"]))
            assert re.fullmatch(r"(SMK|MHC|DST|NOI|WLG)-\d{3}-\d{2,4}", body["reporter"])
            assert body["reporter"][4:7] == body["street"][-3:]
        elif body["source"] == "video_ai":
            assert re.fullmatch(r"CAM-\d{3}-\d{3}", body["reporter"])
    assert all(len(spots) == 1 for spots in places.values()), "a sensor stays where it is"
    assert any(sum(1 for p in planned if p.body["reporter"] == d) > 2 for d in places), (
        "some devices alarm again and again"
    )
    registry = simulator.build_registry(catalog, 7)
    assert registry == simulator.build_registry(catalog, 7)
    assert registry != simulator.build_registry(catalog, 8)
    for gauge in registry.devices["water_level"]:
        assert CREEK.distance_m(gauge.lon, gauge.lat) <= 50.0


def test_creek_events_are_on_the_creek() -> None:
    bodies = generate(9, 3000, T0)
    creek = [b for b in bodies if b["category"].startswith("creek.")]
    assert len(creek) > 100
    for body in creek:
        assert CREEK.distance_m(body["lon"], body["lat"]) <= 65.0, body
        assert body["street"] in {"310107102", "310107014", "310107015", "310107020"}
    others = [b for b in bodies if not b["category"].startswith("creek.")]
    far = [b for b in others if CREEK.distance_m(b["lon"], b["lat"]) > 200]
    assert len(far) > len(others) / 2, "street events spread over the streets"


def test_street_events_spread_around_the_street_centre(catalog: Any) -> None:
    bodies = generate(4, 2000, T0)
    gaps = [
        distance_m(b["lon"], b["lat"], *catalog.streets[b["street"]].center)
        for b in bodies
        if b["source"] in {"hotline_12345", "patrol", "citizen"} and not b["category"].startswith("creek.")
    ]
    assert max(gaps) <= 650
    assert 250 < sorted(gaps)[len(gaps) // 2] < 550


# -- the sender against a mock server ----------------------------------------------------------


def _bodies(n: int, seed: int = 1) -> list[dict[str, Any]]:
    return generate(seed, n, T0, rate=100.0)


async def test_send_reports_counts_what_the_server_answers() -> None:
    seen: dict[str, int] = {}
    calls = Counter[str]()

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/reports"
        assert request.headers["X-API-Key"] == "secret"
        body = json.loads(request.content)
        rid = body["report_id"]
        calls[rid] += 1
        n = list(calls).index(rid) + 1  # the report's own number: its retries are answered alike
        if n % 17 == 0 and calls[rid] == 1:
            raise httpx.ConnectError("refused", request=request)  # retried, then fine
        if n % 23 == 0:
            return httpx.Response(422, json={"error": "invalid_request", "message": "category: unknown"})
        if n % 29 == 0:
            return httpx.Response(500, text="<html>boom</html>")
        if n % 31 == 0:
            return httpx.Response(201, text="not json")
        duplicate = rid in seen
        incident = seen.setdefault(rid, len(seen) + 1)
        return httpx.Response(
            201,
            json={
                "incident_id": incident,
                "seq": n,
                "merged": n % 5 == 0,
                "duplicate": duplicate,
                "status": "registered",
                "unit": "fire_brigade",
            },
        )

    bodies = _bodies(120)
    out, err = io.StringIO(), io.StringIO()
    summary = await send_reports(
        "http://sim.test",
        "secret",
        bodies,
        rate=400.0,
        quiet=False,
        out=out,
        err=err,
        backoff_s=(0.05, 0.2),
        transport=httpx.MockTransport(handler),
    )
    assert summary.sent == 120
    assert summary.unsent == 0
    assert summary.accepted + summary.rejected + summary.errors == 120
    assert summary.rejected >= 3
    assert summary.rejections["422 invalid_request: category: unknown"] >= 1
    assert any(key.startswith("500 http_error: <html>boom") for key in summary.rejections)
    assert summary.errors >= 1  # the unreadable 201
    assert summary.failed_attempts >= 1  # connection errors, retried
    assert summary.merged > 0
    retried = len(bodies) - len({b["report_id"] for b in bodies})
    assert retried > 0 and 0 < summary.duplicates <= retried
    text = out.getvalue()
    assert "→ incident" in text and "rejected 422 invalid_request: category: unknown" in text
    assert "retrying" in text
    assert "sent 120" in summary.format()


async def test_send_reports_stops_when_the_key_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "unauthorized", "message": "missing or unknown X-API-Key"})

    err = io.StringIO()
    summary = await send_reports(
        "http://sim.test",
        "wrong",
        _bodies(200),
        rate=200.0,
        err=err,
        transport=httpx.MockTransport(handler),
    )
    assert summary.accepted == 0
    assert summary.aborted and "intake key" in summary.aborted
    assert summary.unsent > 150
    assert summary.rejections["401 unauthorized: missing or unknown X-API-Key"] == summary.rejected
    assert "missing or unknown X-API-Key" in err.getvalue()  # said even when quiet


async def test_send_reports_keeps_the_rate_when_the_server_is_slow() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.15)  # 15 times the interval between reports
        return httpx.Response(
            201,
            json={
                "incident_id": 1,
                "seq": 1,
                "merged": False,
                "duplicate": False,
                "status": "reported",
                "unit": None,
            },
        )

    summary = await send_reports(
        "http://sim.test",
        "k",
        _bodies(150),
        rate=100.0,
        concurrency=32,
        transport=httpx.MockTransport(handler),
    )
    assert summary.accepted == 150
    assert 1.4 <= summary.elapsed_s <= 1.4 + 1.5 * timeout_scale(), summary.format()


async def test_send_reports_gives_up_at_the_deadline_when_the_server_is_down() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    summary = await send_reports(
        "http://sim.test",
        "k",
        _bodies(100),
        rate=50.0,
        deadline_s=1.5,
        transport=httpx.MockTransport(handler),
    )
    assert summary.accepted == 0
    assert summary.errors == summary.sent > 0
    assert summary.unsent > 0
    assert summary.elapsed_s < 1.5 + 2.0 * timeout_scale()
    assert "ConnectError: connection refused" in summary.format()


async def test_send_reports_stops_cleanly_when_asked() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            201,
            json={
                "incident_id": 1,
                "seq": 1,
                "merged": False,
                "duplicate": False,
                "status": "reported",
                "unit": None,
            },
        )

    bodies = (p.body for p in simulator.stream(2, T0, rate=50.0))  # endless
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(0.5, stop.set)
    summary = await send_reports(
        "http://sim.test", "k", bodies, rate=50.0, stop=stop, transport=httpx.MockTransport(handler)
    )
    assert 15 <= summary.accepted <= 40
    assert summary.elapsed_s < 2.0 * timeout_scale()


def _args(**kw: Any) -> argparse.Namespace:
    values: dict[str, Any] = {
        "server": "http://127.0.0.1:9",
        "key_file": Path("/nonexistent/intake.key"),
        "rate": 20.0,
        "duration": 0.5,
        "seed": 1,
        "quiet": True,
    }
    values.update(kw)
    return argparse.Namespace(**values)


def test_main_refuses_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert simulator.main(_args(rate=0.0)) == 2
    assert simulator.main(_args(duration=-1.0)) == 2
    assert simulator.main(_args(server="127.0.0.1:8770")) == 2
    assert simulator.main(_args()) == 1  # no key file
    assert "cannot read the intake key" in capsys.readouterr().err


def test_main_exits_1_when_nothing_can_be_sent(tmp_path: Path) -> None:
    key = tmp_path / "intake.key"
    key.write_text("abc\n")
    # Port 9 (discard) on loopback: nothing listens there.
    assert simulator.main(_args(key_file=key)) == 1


def test_summary_format_names_every_count() -> None:
    s = Summary(sent=5, accepted=4, merged=1, duplicates=1, rejected=1)
    s.rejections["422 invalid_request: x"] = 1
    text = s.format()
    assert "sent 5, accepted 4 (new 2, merged 1, duplicates 1), rejected 1, errors 0" in text
    assert "rejected 1× 422 invalid_request: x" in text


def test_planned_records_what_each_report_is() -> None:
    p = plan(7, 50, T0)
    assert all(isinstance(x, Planned) for x in p)
    assert [x.index for x in p] == list(range(50))


# -- against a real server ---------------------------------------------------------------------

SUMMARY = re.compile(
    r"sent (\d+), accepted (\d+) \(new (\d+), merged (\d+), duplicates (\d+)\), "
    r"rejected (\d+), errors (\d+)"
)


@pytest.mark.slow
def test_simulate_against_a_real_server(tmp_path: Path) -> None:
    scale = timeout_scale()
    with running_server(tmp_path / "server") as server:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "app.cli",
                "simulate",
                "--server",
                server.url,
                "--key-file",
                str(server.key_path),
                "--rate",
                "50",
                "--duration",
                "3",
                "--seed",
                "3",
                "--quiet",
            ],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=60 * scale,
            check=False,
        )
        assert result.returncode == 0, (result.stdout, result.stderr, server.log_tail())
        match = SUMMARY.search(result.stdout)
        assert match, result.stdout
        sent, accepted, new, merged, duplicates, rejected, errors = map(int, match.groups())
        assert sent == 150 and accepted == 150, result.stdout
        assert rejected == 0 and errors == 0, result.stdout
        assert merged > 0 and duplicates > 0, result.stdout
        assert "→" not in result.stdout, "--quiet prints no line per report"

        health = server.health()
        assert health["incidents"] > 0
        assert health["seq"] >= health["incidents"]
        assert health["incidents"] < sent, "some reports merged"
        assert health["incidents"] == new
        assert health["seq"] >= new + merged
