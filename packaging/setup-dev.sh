#!/usr/bin/env bash
# Sets up everything CityOps Console needs to build, test and run on Debian 12:
#   1. Debian packages (Qt 6 runtime libraries, VTK, CJK fonts, Xvfb, PostgreSQL server,
#      Chromium for the browser guest's tests)
#   2. the Python 3.11 virtual environment .venv with the project and its dev extras
#   3. derived data (`cityops setup-data`), once the CLI has that subcommand
#
# Idempotent: every step checks first and does nothing when its result is already
# there, so a second run takes a few seconds. Used by `make setup` (and so by CI).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

VENV="$ROOT/.venv"
STAMP="$VENV/.installed-stamp"

# Qt 6 (PySide6 6.11: xcb and offscreen platform plugins, EGL/GL via Mesa),
# VTK (libxrender1, libxt6), a CJK font for the Chinese UI, Xvfb for a real
# window on a virtual screen, the PostgreSQL server the tests start, Chromium,
# the browser a guest's test drives headless (tests/integration/test_browser_guest.py),
# and PulseAudio, the sound server the console's loudspeaker and microphone are tested on
# (tests/sound/test_sound_devices.py; pulseaudio-utils for pactl).
DEB_PACKAGES="
    libegl1 libgl1 libgl1-mesa-dri libosmesa6
    libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3
    libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
    libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1
    libglib2.0-0 libnss3 libasound2 xvfb
    libxrender1 libxt6
    fonts-noto-cjk
    postgresql
    gnome-keyring dbus
    libpulse0 pulseaudio pulseaudio-utils
    chromium
"

say() { printf 'setup-dev: %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    else
        sudo "$@"
    fi
}

# --- 1. Debian packages ---------------------------------------------------------

deb_installed() {
    # Multi-Arch packages may print one status per architecture: any installed one counts.
    dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -qx 'install ok installed'
}

postgres_server_present() {
    compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null \
        && compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null
}

missing=()
for pkg in $DEB_PACKAGES; do
    deb_installed "$pkg" || missing+=("$pkg")
done
if ! postgres_server_present && [[ " ${missing[*]-} " != *" postgresql "* ]]; then
    # The metapackage is there but the server binaries are not: install it again.
    missing+=("postgresql")
fi

if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
    if ! postgres_server_present; then
        say "error: PostgreSQL server binaries still missing under /usr/lib/postgresql/*/bin" >&2
        exit 1
    fi
    deb_status="installed"
else
    deb_status="present"
fi

# --- 2. Python virtual environment ----------------------------------------------

is_python311() {
    "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1
}

find_python311() {
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 && is_python311 "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

venv_status="present"
if [ ! -x "$VENV/bin/python" ] || ! is_python311 "$VENV/bin/python"; then
    if ! PYTHON="$(find_python311)"; then
        say "error: Python 3.11 not found (tried python3.11 and python3)" >&2
        exit 1
    fi
    say "creating $VENV with $PYTHON"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    rm -f "$STAMP"
    venv_status="created"
fi

# Reinstall when pyproject.toml changed since the last install, or the entry point is gone.
if [ ! -f "$STAMP" ] || [ "$ROOT/pyproject.toml" -nt "$STAMP" ] || [ ! -x "$VENV/bin/cityops" ]; then
    say "installing the project and its dev extras into .venv"
    "$VENV/bin/python" -m pip install -q -e "$ROOT[dev]"
    touch "$STAMP"
    pip_status="installed"
else
    pip_status="up to date"
fi

# --- 3. Derived data --------------------------------------------------------------

# Only once the CLI has a setup-data subcommand; it must itself be a fast no-op when
# its data are already there.
data_status="no setup-data step yet"
if cli_help="$(QT_QPA_PLATFORM=offscreen "$VENV/bin/cityops" --help 2>/dev/null)" \
    && grep -q 'setup-data' <<<"$cli_help"; then
    "$VENV/bin/cityops" setup-data
    data_status="done"
fi

if [ "$deb_status" = present ] && [ "$venv_status" = present ] && [ "$pip_status" = "up to date" ]; then
    say "everything is present (Debian packages, .venv, project install; data: $data_status)"
else
    say "done (Debian packages: $deb_status; .venv: $venv_status; project: $pip_status; data: $data_status)"
fi
