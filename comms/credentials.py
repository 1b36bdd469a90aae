"""The console's remembered sign-in: session token and, with "remember me", the password, kept in
the OS keyring through the ``keyring`` library and never in a plain file.

One keyring entry per server and user: service ``"cityops-console:<server url>"``, username the
user's name, secret a small JSON object ``{"token": ..., "expires_at": ..., "password": ...}``
(``password`` only when the user ticked "remember me"). A second entry per server, username
``"__last_user__"``, holds the name of the user who signed in last, so the login dialog can fill
it in.

keyring calls can block (the Secret Service answers over D-Bus and may show an unlock prompt), so
:class:`CredentialStore` has blocking methods for a worker thread and ``async_*`` twins that run
them through :func:`asyncio.to_thread`. When there is no usable keyring, every method raises
:class:`CredentialStoreUnavailable`; the console then signs in without remembering anything.

:class:`MemoryKeyring` is an in-memory backend for tests and headless demo runs
(``PYTHON_KEYRING_BACKEND=comms.credentials.MemoryKeyring``). It is never picked on its own.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass, field

import keyring
import keyring.errors
import msgspec
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

log = logging.getLogger(__name__)

SERVICE = "cityops-console"
LAST_USER = "__last_user__"
UNAVAILABLE_MESSAGE = (
    "no system keyring is available: install and unlock a Secret Service such as gnome-keyring; "
    "credentials will not be remembered"
)


class CredentialStoreUnavailable(Exception):
    """No usable keyring: nothing can be remembered. The message says what to do about it."""


@dataclass(frozen=True, slots=True)
class StoredCredentials:
    """What the keyring holds for one user on one server. ``password`` is None unless the user
    chose "remember me". The token and the password stay out of ``repr`` (and so out of logs)."""

    user: str
    token: str = field(repr=False)
    expires_at: float
    password: str | None = field(default=None, repr=False)


class _Entry(msgspec.Struct, omit_defaults=True):
    """The JSON kept as the keyring entry's secret; unknown fields are ignored on reading."""

    token: str
    expires_at: float
    password: str | None = None


_entry_encoder = msgspec.json.Encoder()
_entry_decoder = msgspec.json.Decoder(_Entry)


def service_name(server_url: str) -> str:
    """The keyring service name for a server; a trailing slash makes no difference."""
    server = server_url.rstrip("/")
    if not server:
        raise ValueError("the server URL is empty")
    return f"{SERVICE}:{server}"


def _check_user(user: str) -> None:
    if not user:
        raise ValueError("the user name is empty")
    if user == LAST_USER:
        raise ValueError(f"{LAST_USER!r} is reserved and cannot be a user name")


def _unavailable(detail: str) -> CredentialStoreUnavailable:
    return CredentialStoreUnavailable(f"{UNAVAILABLE_MESSAGE} ({detail})")


class CredentialStore:
    """Session tokens and remembered passwords in the OS keyring.

    ``backend`` None means keyring's default backend, looked up on first use (in the thread that
    makes the first call, since the look-up itself talks to D-Bus). The blocking methods may be
    called from any thread; they run one at a time.
    """

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend
        self._lock = threading.Lock()

    # ---- blocking API (call from a worker thread) ----------------------------------------------

    def save(self, server: str, user: str, token: str, expires_at: float, password: str | None) -> None:
        """Remember ``user``'s token on ``server`` (and the password, when given: "remember me"),
        and make ``user`` the server's last user. Saving without a password drops one saved
        before."""
        _check_user(user)
        service = service_name(server)
        secret = _entry_encoder.encode(_Entry(token=token, expires_at=expires_at, password=password)).decode()
        with self._lock:
            backend = self._resolve()
            self._set(backend, service, user, secret)
            self._set(backend, service, LAST_USER, user)

    def load(self, server: str, user: str) -> StoredCredentials | None:
        """What is remembered for ``user`` on ``server``; None when nothing is, or when the entry
        is unreadable (logged as a warning; the next save replaces it)."""
        _check_user(user)
        service = service_name(server)
        with self._lock:
            secret = self._get(self._resolve(), service, user)
        if secret is None:
            return None
        try:
            entry = _entry_decoder.decode(secret)
        except msgspec.DecodeError as exc:  # also covers ValidationError (wrong shape or types)
            log.warning("ignoring the unreadable keyring entry for %r on %s: %s", user, service, exc)
            return None
        return StoredCredentials(user=user, token=entry.token, expires_at=entry.expires_at, password=entry.password)

    def last_user(self, server: str) -> str | None:
        """The user who signed in last on ``server``, or None."""
        service = service_name(server)
        with self._lock:
            user = self._get(self._resolve(), service, LAST_USER)
        return user or None

    def forget(self, server: str, user: str) -> None:
        """Delete what is remembered for ``user`` on ``server``, and the server's last user when
        it is ``user``. Forgetting what is not there does nothing."""
        _check_user(user)
        service = service_name(server)
        with self._lock:
            backend = self._resolve()
            self._delete(backend, service, user)
            if self._get(backend, service, LAST_USER) == user:
                self._delete(backend, service, LAST_USER)

    @staticmethod
    def token_valid(creds: StoredCredentials | None, now: float, margin: float = 0.0) -> bool:
        """Whether ``creds`` hold a token that is still good at ``now`` (seconds since the epoch,
        like ``expires_at``) and for ``margin`` seconds more."""
        return creds is not None and bool(creds.token) and now + margin < creds.expires_at

    # ---- async API (runs the blocking calls in a thread) ---------------------------------------

    async def async_save(self, server: str, user: str, token: str, expires_at: float, password: str | None) -> None:
        await asyncio.to_thread(self.save, server, user, token, expires_at, password)

    async def async_load(self, server: str, user: str) -> StoredCredentials | None:
        return await asyncio.to_thread(self.load, server, user)

    async def async_last_user(self, server: str) -> str | None:
        return await asyncio.to_thread(self.last_user, server)

    async def async_forget(self, server: str, user: str) -> None:
        await asyncio.to_thread(self.forget, server, user)

    # ---- the keyring boundary ------------------------------------------------------------------

    def _resolve(self) -> KeyringBackend:
        backend = self._backend
        if backend is None:
            try:
                backend = keyring.get_keyring()
            except Exception as exc:  # e.g. a keyringrc.cfg naming a backend that cannot run here
                raise _unavailable(f"cannot load the keyring backend: {type(exc).__name__}: {exc}") from exc
            self._backend = backend
        if isinstance(backend, fail.Keyring | null.Keyring):
            raise _unavailable(f"keyring backend {type(backend).__module__}.{type(backend).__name__}")
        return backend

    # Backends raise more than keyring's own errors (secretstorage, jeepney and D-Bus errors, OSError
    # when the bus goes away), and a sign-in must never fail because the keyring did: every failure
    # of a backend call becomes CredentialStoreUnavailable, with the original as its cause.

    @staticmethod
    def _get(backend: KeyringBackend, service: str, username: str) -> str | None:
        try:
            return backend.get_password(service, username)
        except Exception as exc:
            raise _unavailable(f"{type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _set(backend: KeyringBackend, service: str, username: str, secret: str) -> None:
        try:
            backend.set_password(service, username, secret)
        except Exception as exc:
            raise _unavailable(f"{type(exc).__name__}: {exc}") from exc

    @classmethod
    def _delete(cls, backend: KeyringBackend, service: str, username: str) -> None:
        if cls._get(backend, service, username) is None:
            return
        try:
            backend.delete_password(service, username)
        except keyring.errors.PasswordDeleteError as exc:
            # Gone in the meantime is fine; still there means the keyring refused.
            if cls._get(backend, service, username) is not None:
                raise _unavailable(f"{type(exc).__name__}: {exc}") from exc
        except Exception as exc:
            raise _unavailable(f"{type(exc).__name__}: {exc}") from exc


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps everything in this process's memory, for tests and headless
    demo runs. Use it explicitly (``CredentialStore(MemoryKeyring())``, ``keyring.set_keyring``
    or ``PYTHON_KEYRING_BACKEND=comms.credentials.MemoryKeyring``): it is not ``viable``, so
    keyring's automatic choice never falls back to it and forgets credentials without a word."""

    priority = 1
    viable = False

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring leaves its __init__ unannotated
        self._entries: dict[tuple[str, str], str] = {}
        self._entries_lock = threading.Lock()

    def get_password(self, service: str, username: str) -> str | None:
        with self._entries_lock:
            return self._entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._entries_lock:
            self._entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        with self._entries_lock:
            try:
                del self._entries[(service, username)]
            except KeyError:
                raise keyring.errors.PasswordDeleteError(f"no password for {username!r} on {service!r}") from None
