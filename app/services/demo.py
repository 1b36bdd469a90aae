"""``cityops demo``: the whole system on the embedded default in one command — a server on a
SQLite file, one demo user per role, the simulator, the commander on scene on the radio
(:mod:`app.sim.radio`), and the console signed in as the district officer (or, with ``--feed``,
the text change feed)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

#: One user per role. Demo only: the passwords are printed and are not secret.
DEMO_USERS = [
    ("officer", "district_officer", None, None, "区城运中心值班员"),
    ("changshou", "street_operator", "310107015", None, "长寿路街道城运中心"),
    ("fire", "professional_center", None, "fire", "区消防救援支队指挥中心"),
    ("commander", "field_commander", "310107015", None, "现场指挥员"),
    ("trainer", "trainer", None, None, "演练教员"),
    ("auditor", "auditor", None, None, "审计员"),
    ("admin", "admin", None, None, "系统管理员"),
]
DEMO_PASSWORD = "cityops-demo"


def _cityops(*args: str) -> list[str]:
    return [sys.executable, "-m", "app.cli", *args]


def seed_users(data_dir: Path) -> None:
    for name, role, street, field, display in DEMO_USERS:
        cmd = _cityops(
            "user",
            "add",
            name,
            "--role",
            role,
            "--data-dir",
            str(data_dir),
            "--password-stdin",
            "--display-name",
            display,
        )
        if street:
            cmd += ["--street", street]
        if field:
            cmd += ["--field", field]
        subprocess.run(cmd, input=DEMO_PASSWORD + "\n", text=True, check=True, stdout=subprocess.DEVNULL)


def wait_healthy(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server at {url} did not come up within {timeout:.0f} s")


def has_display() -> bool:
    """Whether a window can be shown here (X11 or Wayland), or Qt was told where to draw."""
    return any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))


def main(args: argparse.Namespace) -> int:
    if not args.headless and not args.feed and not has_display():
        print(
            "no display here: showing the live change feed instead of the console "
            "(run on a desktop for the console, or add --headless --screenshot DIR --quit-after S)",
            flush=True,
        )
        args.feed = True
    data_dir: Path = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{args.port}"
    print(f"CityOps demo — data in {data_dir}", flush=True)
    seed_users(data_dir)
    print(f"demo users (password: {DEMO_PASSWORD}):")
    for name, role, street, field, display in DEMO_USERS:
        where = street or field or "district"
        print(f"  {name:<10} {role:<20} {where:<10} {display}")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    procs: list[subprocess.Popen[bytes]] = []
    try:
        log = open(data_dir / "server.log", "ab")
        procs.append(
            subprocess.Popen(
                _cityops("server", "--data-dir", str(data_dir), "--port", str(args.port), "--log-level", "warning"),
                stdout=log,
                stderr=log,
                env=env,
            )
        )
        wait_healthy(url)
        print(f"server up at {url} (OpenAPI docs: {url}/docs); simulator at {args.rate}/s", flush=True)
        sim_log = open(data_dir / "simulator.log", "ab")
        procs.append(
            subprocess.Popen(
                _cityops(
                    "simulate",
                    "--server",
                    url,
                    "--key-file",
                    str(data_dir / "intake.key"),
                    "--rate",
                    str(args.rate),
                    "--duration",
                    str(args.duration),
                    "--seed",
                    "1",
                ),
                stdout=sim_log,
                stderr=sim_log,
                env=env,
            )
        )
        # The commander on scene: a field laptop in its street's talk group that reports in
        # over push-to-talk and joins command sessions on its street with its body camera.
        radio_log = open(data_dir / "radio.log", "ab")
        radio = subprocess.Popen(
            [sys.executable, "-m", "app.sim.radio", "--server", url, "--user", "commander", "--password-stdin",
             "--cache-dir", str(data_dir / "radio"), "--duration", str(args.duration)],
            stdin=subprocess.PIPE, stdout=radio_log, stderr=radio_log, env=env,
        )  # fmt: skip
        procs.append(radio)
        assert radio.stdin is not None
        radio.stdin.write((DEMO_PASSWORD + "\n").encode())
        radio.stdin.close()
        if args.feed:
            client = _cityops(
                "feed", "--server", url, "--user", "officer", "--password-stdin",
                "--cache", str(data_dir / "feed-cache.db"), "--duration", str(args.duration),
            )  # fmt: skip
        else:
            client = _cityops(
                "console", "--server", url, "--user", "officer", "--password-stdin",
                "--cache-dir", str(data_dir / "console"), "--language", args.language or "zh",
            )  # fmt: skip
            if args.headless:
                client.append("--headless")
            if args.screenshot:
                client += ["--screenshot", str(args.screenshot)]
            quit_after = args.quit_after or (args.duration if args.duration > 0 else None)
            if quit_after:
                client += ["--quit-after", str(quit_after)]
        feed = subprocess.Popen(client, stdin=subprocess.PIPE, env=env)
        procs.append(feed)
        assert feed.stdin is not None
        feed.stdin.write((DEMO_PASSWORD + "\n").encode())
        feed.stdin.close()
        return feed.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT if proc is procs[0] else signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
