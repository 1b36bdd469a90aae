"""The console's loudspeaker and microphone (Qt Multimedia) on a real sound server: a private
PulseAudio with a null sink, and a source that hears what the sink plays. What the console plays
is heard by its microphone: the tone comes through, in time, and the output keeps pace with the
clock instead of stalling between talk spurts (a device that runs dry waits for a whole buffer
before it plays again)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.server import timeout_scale

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def pulse(tmp_path: Path) -> Iterator[dict[str, str]]:
    binary = shutil.which("pulseaudio")
    if binary is None:
        pytest.fail("PulseAudio is not installed: run packaging/setup-dev.sh (Debian package pulseaudio)")
    runtime = tmp_path / "pulse"
    runtime.mkdir(mode=0o700)
    socket = runtime / "native"
    env = dict(os.environ, XDG_RUNTIME_DIR=str(runtime), HOME=str(tmp_path))
    daemon = subprocess.Popen(
        [
            binary, "-n", "--daemonize=no", "--exit-idle-time=-1", "--disallow-exit", "--use-pid-file=no",
            f"--load=module-native-protocol-unix socket={socket} auth-anonymous=1",
            "--load=module-null-sink sink_name=speaker rate=48000",
            "--load=module-remap-source master=speaker.monitor source_name=microphone "
            "source_properties=device.description=Microphone",
        ],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    server = dict(env, PULSE_SERVER=f"unix:{socket}")
    try:
        deadline = time.monotonic() + 15 * timeout_scale()
        while subprocess.run(["pactl", "info"], env=server, capture_output=True).returncode != 0:
            if daemon.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the private PulseAudio did not start")
            time.sleep(0.1)
        for args in (["set-default-sink", "speaker"], ["set-default-source", "microphone"]):
            subprocess.run(["pactl", *args], env=server, check=True)
        yield server
    finally:
        daemon.terminate()
        daemon.wait(10)


def test_what_the_console_plays_its_microphone_hears(pulse: dict[str, str]) -> None:
    env = dict(pulse, QT_QPA_PLATFORM="offscreen", PYTHONPATH=f"{REPO}:{REPO / 'tests'}")
    run = subprocess.run(
        [sys.executable, "-m", "support.sound_check"], env=env, cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["out_available"] and result["in_available"], result
    assert result["captured_frames"] >= 50, json.dumps(result)
    assert result["quiet_before_tone"], result
    assert result["first_loud_s"] is not None, result
    # Through the output and input buffers of the sound server, well under a quarter second;
    # the second spurt too, after half a second with nothing to play.
    assert result["first_loud_s"] - result["tone_at_s"] < 0.25, result
    assert result["second_loud_s"] is not None, result
    assert result["second_loud_s"] - result["second_spurt_at_s"] < 0.25, result
    # The output keeps pace with the clock (it does not stall waiting for a full buffer).
    assert result["played_s"] >= 0.8 * (result["elapsed_s"] - 0.3), result
