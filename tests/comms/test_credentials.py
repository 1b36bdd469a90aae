"""The credential store on the OS keyring (no Qt): entries, last user, forgetting, corrupt
entries, no keyring at all, the async wrappers, and one run against a real Secret Service
(gnome-keyring on a private D-Bus session) when this machine has one."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import keyring
import keyring.core
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from comms.credentials import (
    LAST_USER,
    SERVICE,
    UNAVAILABLE_MESSAGE,
    CredentialStore,
    CredentialStoreUnavailable,
    MemoryKeyring,
    StoredCredentials,
    service_name,
)

ROOT = Path(__file__).parents[2]

SERVER = "http://127.0.0.1:8000"
OTHER_SERVER = "https://cityops.example:8443"
T0 = 1_700_000_000.0
EXPIRES = T0 + 3600.0

UNAVAILABLE = re.escape(UNAVAILABLE_MESSAGE)


@pytest.fixture
def backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def store(backend: MemoryKeyring) -> CredentialStore:
    return CredentialStore(backend)


# ---- save and load ------------------------------------------------------------------------------


def test_round_trip_without_password(store: CredentialStore, backend: MemoryKeyring) -> None:
    store.save(SERVER, "alice", "tok-1", EXPIRES, None)

    creds = store.load(SERVER, "alice")

    assert creds == StoredCredentials(user="alice", token="tok-1", expires_at=EXPIRES, password=None)
    raw = backend.get_password(f"{SERVICE}:{SERVER}", "alice")
    assert raw is not None
    assert json.loads(raw) == {"token": "tok-1", "expires_at": EXPIRES}


def test_round_trip_with_password(store: CredentialStore, backend: MemoryKeyring) -> None:
    store.save(SERVER, "alice", "tok-1", EXPIRES, "s3cret")

    creds = store.load(SERVER, "alice")

    assert creds == StoredCredentials(user="alice", token="tok-1", expires_at=EXPIRES, password="s3cret")
    raw = backend.get_password(f"{SERVICE}:{SERVER}", "alice")
    assert raw is not None
    assert json.loads(raw) == {"token": "tok-1", "expires_at": EXPIRES, "password": "s3cret"}


def test_saving_without_password_drops_the_remembered_one(store: CredentialStore) -> None:
    store.save(SERVER, "alice", "tok-1", EXPIRES, "s3cret")
    store.save(SERVER, "alice", "tok-2", EXPIRES + 60, None)  # "remember me" unticked this time

    assert store.load(SERVER, "alice") == StoredCredentials("alice", "tok-2", EXPIRES + 60, None)


def test_load_of_nothing_is_none(store: CredentialStore) -> None:
    assert store.load(SERVER, "alice") is None


def test_secrets_stay_out_of_repr() -> None:
    text = repr(StoredCredentials("alice", "tok-secret", EXPIRES, "pw-secret"))
    assert "alice" in text
    assert "tok-secret" not in text
    assert "pw-secret" not in text


def test_trailing_slash_names_the_same_server(store: CredentialStore) -> None:
    store.save(SERVER + "/", "alice", "tok-1", EXPIRES, None)

    assert store.load(SERVER, "alice") is not None
    assert store.last_user(SERVER) == "alice"
    assert service_name(SERVER + "/") == service_name(SERVER) == f"{SERVICE}:{SERVER}"


@pytest.mark.parametrize("user", ["", LAST_USER])
def test_empty_and_reserved_user_names_are_refused(store: CredentialStore, user: str) -> None:
    with pytest.raises(ValueError):
        store.save(SERVER, user, "tok", EXPIRES, None)
    with pytest.raises(ValueError):
        store.load(SERVER, user)
    with pytest.raises(ValueError):
        store.forget(SERVER, user)


def test_empty_server_is_refused(store: CredentialStore) -> None:
    with pytest.raises(ValueError):
        store.last_user("")


# ---- last user ----------------------------------------------------------------------------------


def test_last_user(store: CredentialStore, backend: MemoryKeyring) -> None:
    assert store.last_user(SERVER) is None

    store.save(SERVER, "alice", "tok-a", EXPIRES, None)
    assert store.last_user(SERVER) == "alice"

    store.save(SERVER, "bob", "tok-b", EXPIRES, "pw")
    assert store.last_user(SERVER) == "bob"
    assert backend.get_password(f"{SERVICE}:{SERVER}", LAST_USER) == "bob"


# ---- forget -------------------------------------------------------------------------------------


def test_forget_the_last_user(store: CredentialStore, backend: MemoryKeyring) -> None:
    store.save(SERVER, "alice", "tok-a", EXPIRES, "pw")

    store.forget(SERVER, "alice")

    assert store.load(SERVER, "alice") is None
    assert store.last_user(SERVER) is None
    assert backend._entries == {}


def test_forget_another_user_keeps_the_last_user(store: CredentialStore) -> None:
    store.save(SERVER, "alice", "tok-a", EXPIRES, None)
    store.save(SERVER, "bob", "tok-b", EXPIRES, None)

    store.forget(SERVER, "alice")

    assert store.load(SERVER, "alice") is None
    assert store.load(SERVER, "bob") is not None
    assert store.last_user(SERVER) == "bob"


def test_forget_what_is_not_there_does_nothing(store: CredentialStore) -> None:
    store.forget(SERVER, "alice")
    store.save(SERVER, "bob", "tok-b", EXPIRES, None)

    store.forget(SERVER, "alice")

    assert store.last_user(SERVER) == "bob"


def test_forget_when_the_entry_vanishes_meanwhile() -> None:
    class Racing(MemoryKeyring):
        """Another process deletes the entry between our read and our delete."""

        def delete_password(self, service: str, username: str) -> None:
            super().delete_password(service, username)
            super().delete_password(service, username)  # the second one finds nothing and raises

    racing = Racing()
    store = CredentialStore(racing)
    store.save(SERVER, "alice", "tok-a", EXPIRES, None)

    store.forget(SERVER, "alice")

    assert store.load(SERVER, "alice") is None


def test_a_refused_delete_is_reported() -> None:
    class Refusing(MemoryKeyring):
        def delete_password(self, service: str, username: str) -> None:
            raise keyring.errors.PasswordDeleteError("the collection is read-only")

    store = CredentialStore(Refusing())
    store.save(SERVER, "alice", "tok-a", EXPIRES, None)

    with pytest.raises(CredentialStoreUnavailable, match="read-only"):
        store.forget(SERVER, "alice")


# ---- servers and users kept apart ---------------------------------------------------------------


def test_two_servers_and_two_users_are_kept_apart(store: CredentialStore) -> None:
    store.save(SERVER, "alice", "s1-alice", EXPIRES, "pw-s1-alice")
    store.save(SERVER, "bob", "s1-bob", EXPIRES + 1, None)
    store.save(OTHER_SERVER, "alice", "s2-alice", EXPIRES + 2, None)
    store.save(OTHER_SERVER, "carol", "s2-carol", EXPIRES + 3, "pw-s2-carol")

    assert store.load(SERVER, "alice") == StoredCredentials("alice", "s1-alice", EXPIRES, "pw-s1-alice")
    assert store.load(SERVER, "bob") == StoredCredentials("bob", "s1-bob", EXPIRES + 1, None)
    assert store.load(SERVER, "carol") is None
    assert store.load(OTHER_SERVER, "alice") == StoredCredentials("alice", "s2-alice", EXPIRES + 2, None)
    assert store.load(OTHER_SERVER, "bob") is None
    assert store.load(OTHER_SERVER, "carol") == StoredCredentials("carol", "s2-carol", EXPIRES + 3, "pw-s2-carol")
    assert store.last_user(SERVER) == "bob"
    assert store.last_user(OTHER_SERVER) == "carol"

    store.forget(OTHER_SERVER, "carol")

    assert store.last_user(OTHER_SERVER) is None
    assert store.last_user(SERVER) == "bob"
    assert store.load(OTHER_SERVER, "alice") is not None
    assert store.load(SERVER, "alice") is not None


# ---- token validity -----------------------------------------------------------------------------


def test_token_validity() -> None:
    creds = StoredCredentials("alice", "tok", EXPIRES, None)

    assert CredentialStore.token_valid(creds, T0)
    assert CredentialStore.token_valid(creds, EXPIRES - 0.001)
    assert not CredentialStore.token_valid(creds, EXPIRES)
    assert not CredentialStore.token_valid(creds, EXPIRES + 1)
    assert not CredentialStore.token_valid(creds, EXPIRES - 30, margin=60)
    assert CredentialStore.token_valid(creds, EXPIRES - 90, margin=60)
    assert not CredentialStore.token_valid(None, T0)
    assert not CredentialStore.token_valid(StoredCredentials("alice", "", EXPIRES, None), T0)


def test_token_validity_of_a_loaded_entry(store: CredentialStore) -> None:
    store.save(SERVER, "alice", "tok", EXPIRES, None)

    assert store.token_valid(store.load(SERVER, "alice"), T0)
    assert not store.token_valid(store.load(SERVER, "alice"), EXPIRES + 1)
    assert not store.token_valid(store.load(SERVER, "bob"), T0)


# ---- corrupt entries ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "not json {",
        "",
        "[1, 2]",
        '"just a string"',
        '{"expires_at": 1700003600.0}',
        '{"token": "tok-leak", "expires_at": "tomorrow"}',
        '{"token": 42, "expires_at": 1700003600.0}',
        '{"token": "tok-leak", "expires_at": 1700003600.0, "password": ["pw-leak"]}',
    ],
)
def test_corrupt_entry_is_absent_and_logged(
    store: CredentialStore, backend: MemoryKeyring, raw: str, caplog: pytest.LogCaptureFixture
) -> None:
    backend.set_password(f"{SERVICE}:{SERVER}", "alice", raw)

    with caplog.at_level(logging.WARNING, logger="comms.credentials"):
        assert store.load(SERVER, "alice") is None

    warnings = [r for r in caplog.records if r.name == "comms.credentials" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "alice" in warnings[0].getMessage()
    assert "leak" not in warnings[0].getMessage()

    # The next sign-in replaces it.
    store.save(SERVER, "alice", "tok-new", EXPIRES, None)
    assert store.load(SERVER, "alice") == StoredCredentials("alice", "tok-new", EXPIRES, None)


def test_unknown_fields_are_ignored_and_ints_are_times(store: CredentialStore, backend: MemoryKeyring) -> None:
    backend.set_password(f"{SERVICE}:{SERVER}", "alice", '{"token": "tok", "expires_at": 1700003600, "v": 2}')

    assert store.load(SERVER, "alice") == StoredCredentials("alice", "tok", EXPIRES, None)


# ---- no usable keyring --------------------------------------------------------------------------


def _assert_every_call_unavailable(store: CredentialStore) -> None:
    with pytest.raises(CredentialStoreUnavailable, match=UNAVAILABLE):
        store.save(SERVER, "alice", "tok", EXPIRES, "pw")
    with pytest.raises(CredentialStoreUnavailable, match=UNAVAILABLE):
        store.load(SERVER, "alice")
    with pytest.raises(CredentialStoreUnavailable, match=UNAVAILABLE):
        store.last_user(SERVER)
    with pytest.raises(CredentialStoreUnavailable, match=UNAVAILABLE):
        store.forget(SERVER, "alice")


def test_fail_backend_is_unavailable() -> None:
    _assert_every_call_unavailable(CredentialStore(fail.Keyring()))


def test_the_message_says_what_to_do() -> None:
    with pytest.raises(CredentialStoreUnavailable) as info:
        CredentialStore(fail.Keyring()).load(SERVER, "alice")

    assert str(info.value).startswith(
        "no system keyring is available: install and unlock a Secret Service such as gnome-keyring; "
        "credentials will not be remembered"
    )


def test_null_backend_is_unavailable() -> None:
    # keyring's "disabled" backend would drop everything silently.
    _assert_every_call_unavailable(CredentialStore(null.Keyring()))


def test_keyring_errors_become_unavailable() -> None:
    class Locked(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

        def set_password(self, service: str, username: str, password: str) -> None:
            raise keyring.errors.PasswordSetError("locked")

    _assert_every_call_unavailable(CredentialStore(Locked()))

    with pytest.raises(CredentialStoreUnavailable) as info:
        CredentialStore(Locked()).last_user(SERVER)
    assert isinstance(info.value.__cause__, keyring.errors.KeyringLocked)
    assert "Failed to unlock the collection!" in str(info.value)


def test_other_backend_errors_become_unavailable() -> None:
    class BusGone(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise ConnectionResetError("the D-Bus connection closed")

    with pytest.raises(CredentialStoreUnavailable, match=UNAVAILABLE) as info:
        CredentialStore(BusGone()).load(SERVER, "alice")
    assert isinstance(info.value.__cause__, ConnectionResetError)


def test_default_backend_without_a_keyring_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyring.core, "_keyring_backend", fail.Keyring())

    _assert_every_call_unavailable(CredentialStore())


def test_default_backend_that_cannot_load_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> KeyringBackend:
        raise RuntimeError("The Secret Service daemon is neither running nor activatable through D-Bus")

    monkeypatch.setattr(keyring, "get_keyring", broken)

    with pytest.raises(CredentialStoreUnavailable, match=UNAVAILABLE):
        CredentialStore().last_user(SERVER)


def test_default_backend_is_looked_up_on_first_use(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    memory = MemoryKeyring()

    def counting() -> KeyringBackend:
        calls.append(1)
        return memory

    monkeypatch.setattr(keyring, "get_keyring", counting)

    store = CredentialStore()
    assert calls == []
    store.save(SERVER, "alice", "tok", EXPIRES, None)
    assert store.load(SERVER, "alice") is not None
    assert calls == [1]
    assert memory.get_password(f"{SERVICE}:{SERVER}", LAST_USER) == "alice"


# ---- MemoryKeyring ------------------------------------------------------------------------------


def test_memory_keyring_backend() -> None:
    memory = MemoryKeyring()
    assert MemoryKeyring.priority == 1
    assert memory.get_password("svc", "u") is None

    memory.set_password("svc", "u", "x")
    assert memory.get_password("svc", "u") == "x"
    assert memory.get_password("svc", "v") is None
    assert memory.get_password("other", "u") is None
    credential = memory.get_credential("svc", "u")
    assert credential is not None
    assert credential.password == "x"

    memory.delete_password("svc", "u")
    assert memory.get_password("svc", "u") is None
    with pytest.raises(keyring.errors.PasswordDeleteError):
        memory.delete_password("svc", "u")


def test_memory_keyring_is_never_chosen_automatically() -> None:
    # Otherwise a machine without a Secret Service would "remember" in memory and forget at exit.
    assert MemoryKeyring not in set(KeyringBackend.get_viable_backends())


def test_memory_keyring_can_be_named_for_headless_runs() -> None:
    loaded = keyring.core.load_keyring("comms.credentials.MemoryKeyring")

    assert isinstance(loaded, MemoryKeyring)
    CredentialStore(loaded).save(SERVER, "alice", "tok", EXPIRES, None)


# ---- async wrappers -----------------------------------------------------------------------------


class ThreadRecording(MemoryKeyring):
    def __init__(self) -> None:
        super().__init__()
        self.threads: set[int] = set()

    def get_password(self, service: str, username: str) -> str | None:
        self.threads.add(threading.get_ident())
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self.threads.add(threading.get_ident())
        super().set_password(service, username, password)


async def test_async_wrappers_round_trip_off_the_loop_thread() -> None:
    recording = ThreadRecording()
    store = CredentialStore(recording)

    assert await store.async_last_user(SERVER) is None
    await store.async_save(SERVER, "alice", "tok", EXPIRES, "pw")
    assert await store.async_load(SERVER, "alice") == StoredCredentials("alice", "tok", EXPIRES, "pw")
    assert await store.async_last_user(SERVER) == "alice"
    await store.async_forget(SERVER, "alice")
    assert await store.async_load(SERVER, "alice") is None
    assert await store.async_last_user(SERVER) is None

    assert recording.threads
    assert threading.get_ident() not in recording.threads


async def test_async_wrappers_raise_unavailable() -> None:
    store = CredentialStore(fail.Keyring())

    with pytest.raises(CredentialStoreUnavailable, match=UNAVAILABLE):
        await store.async_save(SERVER, "alice", "tok", EXPIRES, None)
    with pytest.raises(CredentialStoreUnavailable, match=UNAVAILABLE):
        await store.async_load(SERVER, "alice")
    with pytest.raises(CredentialStoreUnavailable, match=UNAVAILABLE):
        await store.async_last_user(SERVER)
    with pytest.raises(CredentialStoreUnavailable, match=UNAVAILABLE):
        await store.async_forget(SERVER, "alice")


# ---- a real Secret Service ----------------------------------------------------------------------

SECRET_SERVICE_PACKAGES = "gnome-keyring (gnome-keyring-daemon) and dbus (dbus-run-session)"

# Two separate processes, so the second one reads what the first stored in gnome-keyring and not
# something left in its own memory.
SAVE_SCRIPT = textwrap.dedent(
    """
    import keyring
    from keyring.backends.SecretService import Keyring as SecretServiceKeyring
    from comms.credentials import CredentialStore

    assert isinstance(keyring.get_keyring(), SecretServiceKeyring), keyring.get_keyring()
    store = CredentialStore()
    store.save("http://127.0.0.1:8000", "alice", "tok-alice", 1700003600.0, "pw-alice")
    store.save("http://127.0.0.1:8000", "bob", "tok-bob", 1700003601.0, None)
    print("saved")
    """
)
LOAD_SCRIPT = textwrap.dedent(
    """
    from comms.credentials import CredentialStore, StoredCredentials

    store = CredentialStore()
    server = "http://127.0.0.1:8000"
    assert store.last_user(server) == "bob", store.last_user(server)
    assert store.load(server, "alice") == StoredCredentials("alice", "tok-alice", 1700003600.0, "pw-alice")
    assert store.load(server, "bob") == StoredCredentials("bob", "tok-bob", 1700003601.0, None)
    store.forget(server, "bob")
    assert store.load(server, "bob") is None
    assert store.last_user(server) is None
    assert store.load(server, "alice") is not None
    print("loaded")
    """
)


def _secret_service_missing() -> str | None:
    missing = [tool for tool in ("gnome-keyring-daemon", "dbus-run-session") if shutil.which(tool) is None]
    if missing:
        return f"no {', '.join(missing)} on this machine: needs the Debian packages {SECRET_SERVICE_PACKAGES}"
    try:
        import secretstorage  # noqa: F401  (keyring's SecretService backend needs it)
    except ImportError:
        return "the secretstorage package is not installed in this environment"
    return None


@pytest.mark.skipif(_secret_service_missing() is not None, reason=str(_secret_service_missing()))
def test_real_secret_service(tmp_path: Path) -> None:
    """Store, read back from another process, and forget, in gnome-keyring on a private D-Bus
    session bus with a throw-away home, so the user's own keyring is never touched."""
    home = tmp_path / "home"
    runtime = tmp_path / "run"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    save_script = tmp_path / "save.py"
    load_script = tmp_path / "load.py"
    save_script.write_text(SAVE_SCRIPT)
    load_script.write_text(LOAD_SCRIPT)

    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DBUS_", "KEYRING_PROPERTY_", "GNOME_KEYRING_", "XDG_"))
        and name not in ("PYTHON_KEYRING_BACKEND", "PYTHONPATH")
    }
    env |= {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_RUNTIME_DIR": str(runtime),
        "PYTHONPATH": str(ROOT),
    }
    # --unlock reads the login keyring's password on stdin and creates that keyring in the
    # throw-away home; the daemon goes away with the session bus when the shell ends.
    shell = 'printf %s "$1" | gnome-keyring-daemon --unlock --components=secrets >/dev/null && "$2" "$3" && "$2" "$4"'
    command = [
        "dbus-run-session",
        "--",
        "sh",
        "-c",
        shell,
        "sh",
        "throw-away-login-password",
        sys.executable,
        str(save_script),
        str(load_script),
    ]
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"the Secret Service run took over 10 s\nstdout:\n{stdout}\nstderr:\n{stderr}")

    assert process.returncode == 0, f"stdout:\n{stdout}\nstderr:\n{stderr}"
    assert stdout.split() == ["saved", "loaded"]
    # gnome-keyring wrote its own encrypted keyring file in the throw-away home; nothing of ours
    # is in plain text anywhere there.
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"tok-alice" not in data and b"pw-alice" not in data, path
