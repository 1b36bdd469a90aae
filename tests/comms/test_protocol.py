"""The sync protocol's two sans-I/O state machines, without sockets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from app.domain.catalog import Catalog, load_catalog
from app.domain.devices import Device, DeviceKind
from app.domain.intake import Report, open_incident
from app.domain.model import Action, Incident, SourceChannel, Status
from app.domain.records import IDX, Record, from_record, to_record
from app.domain.workflow import WorkflowError, apply
from comms.protocol import (
    MAX_CLIENT_MESSAGE,
    VERSION,
    ClientConnection,
    ClientState,
    ProtocolError,
    ServerConnection,
    ServerState,
    encode,
)
from comms.protocol import messages as m

CATALOG_PATH = Path(__file__).parents[2] / "resources" / "catalog.yaml"

T0 = 1_700_000_000.0
TOKEN = "session-token-abc"


# ---- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(yaml.safe_load(CATALOG_PATH.read_text(encoding="utf-8")))


def _incident(catalog: Catalog, incident_id: int, category: str, source: SourceChannel) -> Incident:
    street = "310107005"
    lon, lat = catalog.streets[street].center
    report = Report(
        report_id=f"r-{incident_id}",
        source=source,
        category=category,
        title=f"report {incident_id} 上报",
        lon=lon,
        lat=lat,
        street=street,
        observed_at=T0 + incident_id,
    )
    return open_incident(report, incident_id, catalog, T0 + incident_id + 1)


@pytest.fixture(scope="module")
def incidents(catalog: Catalog) -> list[Incident]:
    """Three incidents: a registered smoke alarm, a reported citizen report, a reported lamp."""
    return [
        _incident(catalog, 1, "fire.smoke_alarm", SourceChannel.SENSOR),
        _incident(catalog, 2, "order.street_vending", SourceChannel.CITIZEN),
        _incident(catalog, 3, "facilities.street_lamp", SourceChannel.CITIZEN),
    ]


@pytest.fixture(scope="module")
def records(incidents: list[Incident]) -> list[Record]:
    return [to_record(incident, seq) for seq, incident in enumerate(incidents, start=1)]


def welcome(mode: str = "snapshot", seq: int = 3) -> m.Welcome:
    return m.Welcome(
        v=VERSION,
        user="officer.li",
        role="district_officer",
        street=None,
        field=None,
        display_name="李值班",
        seq=seq,
        mode=mode,  # type: ignore[arg-type]
    )


def hello_bytes(v: int = VERSION, last_seq: int = 0) -> bytes:
    return encode(m.Hello(v=v, token=TOKEN, last_seq=last_seq, client="test-console"))


def command(key: str = "k1", **overrides: Any) -> m.Command:
    fields: dict[str, Any] = {"key": key, "incident_id": 2, "action": Action.REGISTER}
    fields.update(overrides)
    return m.Command(**fields)


def sent(conn: ServerConnection | ClientConnection) -> list[dict[str, Any]]:
    """What the connection queued, as parsed JSON objects (the queue is drained)."""
    return [json.loads(data) for data in conn.data_to_send()]


def server_state(server: ServerConnection) -> ServerState:
    """The state, read through a call so that type checkers do not narrow it across steps."""
    return server.state


def client_state(client: ClientConnection) -> ClientState:
    return client.state


def ready_server() -> ServerConnection:
    server = ServerConnection()
    assert isinstance(server.receive(hello_bytes()), m.Hello)
    server.welcome(welcome(), last_seq=0)
    server.snapshot_end(seq=3, count=3)
    server.data_to_send()
    return server


def live_client(last_seq: int = 10) -> ClientConnection:
    client = ClientConnection()
    client.hello(TOKEN, last_seq)
    assert isinstance(client.receive(encode(welcome("changes", seq=last_seq))), m.Welcome)
    client.data_to_send()
    assert client.state is ClientState.LIVE
    assert client.last_seq == last_seq
    return client


# ---- server end: receiving -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (encode(command()), "command"),
        (encode(m.Ping(t=1.5)), "ping"),
    ],
    ids=["command", "ping"],
)
def test_nothing_before_hello(data: bytes, kind: str) -> None:
    server = ServerConnection()
    event = server.receive(data)
    assert isinstance(event, ProtocolError)
    assert event.code == "out_of_order"
    assert kind in event.message
    assert "hello" in event.message
    assert sent(server) == [{"type": "error", "code": "out_of_order", "message": event.message}]
    assert server.state is ServerState.AWAIT_HELLO
    # the session goes on: a hello is still taken
    assert isinstance(server.receive(hello_bytes()), m.Hello)


def test_hello_with_an_unsupported_version() -> None:
    server = ServerConnection()
    event = server.receive(hello_bytes(v=VERSION + 1))
    assert isinstance(event, ProtocolError)
    assert event.code == "unsupported_version"
    assert str(VERSION + 1) in event.message
    (error,) = sent(server)
    assert (error["type"], error["code"]) == ("error", "unsupported_version")
    assert server.state is ServerState.AWAIT_HELLO
    assert isinstance(server.receive(hello_bytes()), m.Hello)


def test_valid_hello() -> None:
    server = ServerConnection()
    event = server.receive(hello_bytes(last_seq=42))
    assert event == m.Hello(v=VERSION, token=TOKEN, last_seq=42, client="test-console")
    assert sent(server) == []
    # commands may follow the hello at once, before the driver has authenticated and welcomed
    assert server.state is ServerState.READY
    server.welcome(welcome(), last_seq=0)
    assert server_state(server) is ServerState.READY


def test_hello_as_text_and_with_defaults() -> None:
    server = ServerConnection()
    event = server.receive(json.dumps({"type": "hello", "v": VERSION, "token": TOKEN}))
    assert event == m.Hello(v=VERSION, token=TOKEN, last_seq=0, client="")


def test_second_hello_is_out_of_order() -> None:
    server = ready_server()
    event = server.receive(hello_bytes())
    assert isinstance(event, ProtocolError)
    assert event.code == "out_of_order"
    assert "hello" in event.message
    assert [e["code"] for e in sent(server)] == ["out_of_order"]
    assert server.state is ServerState.READY


def test_commands_and_pings_after_welcome() -> None:
    server = ready_server()
    cmd = command(note="现场核实", unit=None, target_id=None)
    assert server.receive(encode(cmd)) == cmd
    assert server.receive(encode(m.Ping(t=2.5))) == m.Ping(t=2.5)
    merge = command("k2", action=Action.MERGE, target_id=1)
    assert server.receive(encode(merge).decode()) == merge
    assert sent(server) == []


def _cmd_json(**changes: Any) -> str:
    obj: dict[str, Any] = {"type": "command", "key": "k9", "incident_id": 2, "action": "register"}
    for name, value in changes.items():
        if value is _DROP:
            del obj[name]
        else:
            obj[name] = value
    return json.dumps(obj)


_DROP = object()


def _padded_command(total: int) -> bytes:
    """A valid command of exactly ``total`` bytes."""
    base = len(encode(command(note="")))
    data = encode(command(note="x" * (total - base)))
    assert len(data) == total
    return data


BAD_MESSAGES: list[tuple[str, str | bytes, str, list[str]]] = [
    ("not-json", "this is not json", "malformed", []),
    ("truncated", b'{"type": "command", "key": "k', "malformed", []),
    ("bad-object", b"{bad", "malformed", []),
    ("empty", b"", "malformed", []),
    ("not-utf8", b"\xff\xfe\x00", "malformed", []),
    ("wrong-type-id", _cmd_json(incident_id="seven"), "invalid", ["$.incident_id", "int"]),
    ("wrong-type-note", _cmd_json(note=5), "invalid", ["$.note", "str"]),
    ("wrong-type-ping", json.dumps({"type": "ping", "t": "now"}), "invalid", ["$.t"]),
    ("unknown-action", _cmd_json(action="teleport"), "invalid", ["$.action", "teleport"]),
    ("report-is-an-action-not-a-message", _cmd_json(type="report"), "invalid", ["$.type"]),
    ("unknown-field", _cmd_json(priority="high"), "invalid", ["priority"]),
    ("missing-field-key", _cmd_json(key=_DROP), "invalid", ["key"]),
    ("missing-field-action", _cmd_json(action=_DROP), "invalid", ["action"]),
    ("missing-type", json.dumps({"key": "k", "incident_id": 1}), "invalid", ["type"]),
    ("unknown-type", json.dumps({"type": "shutdown"}), "invalid", ["$.type", "shutdown"]),
    ("array", "[1, 2, 3]", "invalid", ["object"]),
    ("server-message", encode(m.Pong(t=1.0)), "invalid", ["$.type"]),
    ("too-large-garbage", b"{" * (MAX_CLIENT_MESSAGE + 1), "too_large", [str(MAX_CLIENT_MESSAGE)]),
    (
        "too-large-command",
        _padded_command(MAX_CLIENT_MESSAGE + 1),
        "too_large",
        [str(MAX_CLIENT_MESSAGE + 1)],
    ),
]


@pytest.mark.parametrize(
    ("data", "code", "fragments"),
    [pytest.param(d, c, f, id=name) for name, d, c, f in BAD_MESSAGES],
)
def test_bad_message_is_answered_and_the_session_goes_on(data: str | bytes, code: str, fragments: list[str]) -> None:
    server = ready_server()
    server.changes(5, [])
    server.data_to_send()
    event = server.receive(data)
    assert isinstance(event, ProtocolError)
    assert event.code == code
    for fragment in fragments:
        assert fragment in event.message, (fragment, event.message)
    assert sent(server) == [{"type": "error", "code": code, "message": event.message}]
    assert server.state is ServerState.READY
    assert server.sent_seq == 5
    # a valid command is still taken, and the error changed nothing that would be sent
    assert server.receive(encode(command("after"))) == command("after")
    assert sent(server) == []


@pytest.mark.parametrize(
    "data",
    [
        b"{bad",
        _cmd_json(incident_id="seven"),
        _cmd_json(priority="high"),
        json.dumps({"type": "shutdown"}),
        b"{" * (MAX_CLIENT_MESSAGE + 1),
    ],
    ids=["malformed", "wrong-type", "unknown-field", "unknown-type", "too-large"],
)
def test_bad_message_before_hello_keeps_waiting_for_hello(data: str | bytes) -> None:
    server = ServerConnection()
    assert isinstance(server.receive(data), ProtocolError)
    assert len(server.data_to_send()) == 1
    assert server.state is ServerState.AWAIT_HELLO
    assert isinstance(server.receive(hello_bytes()), m.Hello)


def test_too_large_is_refused_without_decoding() -> None:
    """Garbage over the limit is too_large, not malformed: it was never parsed."""
    server = ready_server()
    event = server.receive("\x00" * (MAX_CLIENT_MESSAGE + 1))
    assert isinstance(event, ProtocolError)
    assert event.code == "too_large"


def test_a_message_of_exactly_the_limit_is_taken() -> None:
    server = ready_server()
    event = server.receive(_padded_command(MAX_CLIENT_MESSAGE))
    assert isinstance(event, m.Command)
    assert len(event.note) > 60_000


def test_limit_is_in_bytes_for_text_messages_too() -> None:
    server = ready_server()
    text = encode(command(note="汉" * 30_000)).decode()
    assert len(text) < MAX_CLIENT_MESSAGE < len(text.encode())
    event = server.receive(text)
    assert isinstance(event, ProtocolError)
    assert event.code == "too_large"


# ---- server end: sending ---------------------------------------------------------------------


def test_welcome_in_snapshot_mode() -> None:
    server = ServerConnection()
    server.receive(hello_bytes(last_seq=8))
    w = welcome("snapshot", seq=12)
    server.welcome(w, last_seq=8)
    assert server.state is ServerState.READY
    assert server.sent_seq == 0, "a snapshot starts from nothing"
    data = server.data_to_send()
    assert data == [encode(w)]
    (msg,) = [json.loads(d) for d in data]
    assert msg == {
        "type": "welcome",
        "v": VERSION,
        "user": "officer.li",
        "role": "district_officer",
        "street": None,
        "field": None,
        "display_name": "李值班",
        "seq": 12,
        "mode": "snapshot",
    }


def test_welcome_in_changes_mode_continues_from_the_console() -> None:
    server = ServerConnection()
    server.receive(hello_bytes(last_seq=8))
    server.welcome(welcome("changes", seq=12), last_seq=8)
    assert server.sent_seq == 8
    server.data_to_send()
    server.changes(12, [])
    assert sent(server) == [{"type": "changes", "after": 8, "upto": 12, "records": []}]


def test_snapshot_messages(records: list[Record]) -> None:
    server = ServerConnection()
    server.receive(hello_bytes())
    server.welcome(welcome(), last_seq=0)
    server.data_to_send()
    server.snapshot(records[:2])
    server.snapshot(records[2:])
    server.snapshot_end(seq=3, count=3)
    assert server.sent_seq == 3
    data = server.data_to_send()
    assert data == [
        encode(m.Snapshot(records=records[:2])),
        encode(m.Snapshot(records=records[2:])),
        encode(m.SnapshotEnd(seq=3, count=3)),
    ]
    first, second, end = (json.loads(d) for d in data)
    assert first["type"] == second["type"] == "snapshot"
    assert [tuple(r) for r in first["records"]] == records[:2]
    assert [tuple(r) for r in second["records"]] == records[2:]
    assert end == {"type": "snapshot_end", "seq": 3, "count": 3}
    assert server.data_to_send() == []


def test_changes_are_contiguous_and_skipped_when_nothing_new(records: list[Record]) -> None:
    server = ready_server()
    assert server.sent_seq == 3
    server.changes(3, records)  # nothing new
    server.changes(2, records)  # behind
    assert server.data_to_send() == []
    assert server.sent_seq == 3

    server.changes(5, records[:1])
    server.changes(9, [])  # the user may see none of 6..9, but the range still moves on
    server.changes(9, records)  # repeated
    server.changes(10, records[1:2])
    data = server.data_to_send()
    assert data == [
        encode(m.Changes(after=3, upto=5, records=records[:1])),
        encode(m.Changes(after=5, upto=9, records=[])),
        encode(m.Changes(after=9, upto=10, records=records[1:2])),
    ]
    assert [(c["type"], c["after"], c["upto"]) for c in map(json.loads, data)] == [
        ("changes", 3, 5),
        ("changes", 5, 9),
        ("changes", 9, 10),
    ]
    assert server.sent_seq == 10


def test_ack_reject_error_pong(records: list[Record]) -> None:
    server = ready_server()
    server.ack("k1", 4, records[0])
    server.ack("k2", 4, None)
    server.reject("k3", "illegal_transition", "cannot verify: incident 2 is reported")
    server.error("unauthorized", "log in again")
    server.pong(1.25)
    data = server.data_to_send()
    assert data == [
        encode(m.Ack(key="k1", seq=4, record=records[0])),
        encode(m.Ack(key="k2", seq=4, record=None)),
        encode(m.Reject(key="k3", code="illegal_transition", reason="cannot verify: incident 2 is reported")),
        encode(m.Error(code="unauthorized", message="log in again")),
        encode(m.Pong(t=1.25)),
    ]
    parsed = [json.loads(d) for d in data]
    assert [p["type"] for p in parsed] == ["ack", "ack", "reject", "error", "pong"]
    assert tuple(parsed[0]["record"]) == records[0]
    assert parsed[1]["record"] is None
    assert parsed[2] == {
        "type": "reject",
        "key": "k3",
        "code": "illegal_transition",
        "reason": "cannot verify: incident 2 is reported",
    }
    assert parsed[4] == {"type": "pong", "t": 1.25}


# ---- client end ------------------------------------------------------------------------------


def test_client_happy_path(records: list[Record], incidents: list[Incident]) -> None:
    client = ClientConnection()
    assert client_state(client) is ClientState.IDLE
    client.hello(TOKEN, 0, client="ws-01")
    assert client_state(client) is ClientState.AWAIT_WELCOME
    assert client.data_to_send() == [encode(m.Hello(v=VERSION, token=TOKEN, last_seq=0, client="ws-01"))]

    w = welcome("snapshot", seq=3)
    assert client.receive(encode(w)) == w
    assert client_state(client) is ClientState.SNAPSHOT
    assert client.last_seq == 0

    chunk = client.receive(encode(m.Snapshot(records=records[:2])))
    assert isinstance(chunk, m.Snapshot)
    assert chunk.records == records[:2]
    assert [from_record(r) for r in chunk.records] == incidents[:2]
    chunk = client.receive(encode(m.Snapshot(records=records[2:])).decode())
    assert isinstance(chunk, m.Snapshot)
    assert client_state(client) is ClientState.SNAPSHOT

    assert client.receive(encode(m.SnapshotEnd(seq=3, count=3))) == m.SnapshotEnd(seq=3, count=3)
    assert client_state(client) is ClientState.LIVE
    assert client.last_seq == 3

    changes = client.receive(encode(m.Changes(after=3, upto=4, records=records[:1])))
    assert isinstance(changes, m.Changes)
    assert changes.records == records[:1]
    assert client.last_seq == 4
    assert isinstance(client.receive(encode(m.Changes(after=4, upto=9, records=[]))), m.Changes)
    assert client.last_seq == 9

    cmd = command("k1")
    client.command(cmd)
    client.ping(7.5)
    assert client.pending == {"k1"}
    assert client.data_to_send() == [encode(cmd), encode(m.Ping(t=7.5))]

    ack = m.Ack(key="k1", seq=10, record=records[1])
    assert client.receive(encode(ack)) == ack
    assert client.pending == set()

    client.command(command("k2", action=Action.VERIFY))
    reject = m.Reject(key="k2", code="illegal_transition", reason="cannot verify")
    assert client.receive(encode(reject)) == reject
    assert client.pending == set()

    assert client.receive(encode(m.Pong(t=7.5))) == m.Pong(t=7.5)
    assert client.receive(encode(m.Error(code="invalid", message="x"))) == m.Error(code="invalid", message="x")
    assert client_state(client) is ClientState.LIVE
    assert client.last_seq == 9


def test_client_catch_up_mode() -> None:
    client = ClientConnection()
    client.hello(TOKEN, 7)
    assert json.loads(client.data_to_send()[0])["last_seq"] == 7
    client.receive(encode(welcome("changes", seq=9)))
    assert client.state is ClientState.LIVE
    assert client.last_seq == 7
    assert isinstance(client.receive(encode(m.Changes(after=7, upto=9, records=[]))), m.Changes)
    assert client.last_seq == 9


def test_command_before_hello_is_a_programming_error() -> None:
    client = ClientConnection()
    with pytest.raises(RuntimeError, match="hello"):
        client.command(command())
    assert client.data_to_send() == []


def test_hello_forgets_pending_commands() -> None:
    client = live_client()
    client.command(command("old"))
    client.hello(TOKEN, 10)
    assert client.pending == set()
    assert isinstance(client.receive(encode(welcome("changes", seq=10))), m.Welcome)
    event = client.receive(encode(m.Ack(key="old", seq=11, record=None)))
    assert isinstance(event, ProtocolError)
    assert event.code == "unknown_key"


def _idle() -> ClientConnection:
    return ClientConnection()


def _awaiting() -> ClientConnection:
    client = ClientConnection()
    client.hello(TOKEN, 0)
    return client


def _in_snapshot() -> ClientConnection:
    client = _awaiting()
    client.receive(encode(welcome("snapshot")))
    assert client.state is ClientState.SNAPSHOT
    return client


def _live() -> ClientConnection:
    client = live_client(10)
    client.command(command("known"))
    return client


OUT_OF_ORDER: list[tuple[str, Callable[[], ClientConnection], bytes | str, str, str]] = [
    (
        "snapshot-chunk-while-live",
        _live,
        encode(m.Snapshot(records=[])),
        "out_of_order",
        "snapshot",
    ),
    (
        "snapshot-end-while-live",
        _live,
        encode(m.SnapshotEnd(seq=20, count=0)),
        "out_of_order",
        "snapshot_end",
    ),
    (
        "changes-during-snapshot",
        _in_snapshot,
        encode(m.Changes(after=0, upto=4, records=[])),
        "out_of_order",
        "snapshot",
    ),
    ("changes-with-a-gap", _live, encode(m.Changes(after=12, upto=15, records=[])), "gap", "10"),
    ("changes-overlapping", _live, encode(m.Changes(after=8, upto=12, records=[])), "gap", "10"),
    ("changes-repeated", _live, encode(m.Changes(after=5, upto=10, records=[])), "gap", "10"),
    ("changes-backwards", _live, encode(m.Changes(after=10, upto=9, records=[])), "gap", "10"),
    ("welcome-without-hello", _idle, encode(welcome()), "out_of_order", "welcome"),
    ("second-welcome", _live, encode(welcome("changes", seq=10)), "out_of_order", "welcome"),
    ("welcome-during-snapshot", _in_snapshot, encode(welcome()), "out_of_order", "welcome"),
    (
        "snapshot-before-welcome",
        _awaiting,
        encode(m.Snapshot(records=[])),
        "out_of_order",
        "snapshot",
    ),
    (
        "changes-before-welcome",
        _awaiting,
        encode(m.Changes(after=0, upto=1, records=[])),
        "out_of_order",
        "changes",
    ),
    (
        "changes-when-idle",
        _idle,
        encode(m.Changes(after=0, upto=1, records=[])),
        "out_of_order",
        "idle",
    ),
    (
        "ack-unknown-key",
        _live,
        encode(m.Ack(key="stranger", seq=11, record=None)),
        "unknown_key",
        "stranger",
    ),
    (
        "reject-unknown-key",
        _live,
        encode(m.Reject(key="stranger", code="x", reason="y")),
        "unknown_key",
        "stranger",
    ),
    ("malformed", _live, b'{"type": "changes", ', "malformed", "JSON"),
    ("not-json", _live, "<html>502 Bad Gateway</html>", "malformed", "JSON"),
    ("unknown-type", _live, json.dumps({"type": "shutdown"}), "invalid", "$.type"),
    ("client-message", _live, encode(m.Ping(t=0.0)), "invalid", "$.type"),
    (
        "bad-mode",
        _awaiting,
        encode(welcome()).replace(b'"snapshot"', b'"bogus"'),
        "invalid",
        "$.mode",
    ),
    (
        "short-record",
        _live,
        json.dumps({"type": "changes", "after": 10, "upto": 11, "records": [[1, 2]]}),
        "invalid",
        "$.records[0]",
    ),
]


@pytest.mark.parametrize(
    ("make", "data", "code", "fragment"),
    [pytest.param(mk, d, c, f, id=name) for name, mk, d, c, f in OUT_OF_ORDER],
)
def test_client_refuses_and_keeps_its_state(
    make: Callable[[], ClientConnection], data: bytes | str, code: str, fragment: str
) -> None:
    client = make()
    client.data_to_send()
    state, last_seq, pending = client.state, client.last_seq, set(client.pending)
    event = client.receive(data)
    assert isinstance(event, ProtocolError)
    assert event.code == code
    assert fragment in event.message, event.message
    assert client.state is state
    assert client.last_seq == last_seq
    assert client.pending == pending
    assert client.data_to_send() == [], "the client end never answers by itself"


def test_client_ack_twice_is_unknown_the_second_time() -> None:
    client = _live()
    assert isinstance(client.receive(encode(m.Ack(key="known", seq=11, record=None))), m.Ack)
    again = client.receive(encode(m.Ack(key="known", seq=11, record=None)))
    assert isinstance(again, ProtocolError)
    assert again.code == "unknown_key"


def test_client_resumes_after_a_gap_report() -> None:
    client = _live()
    assert isinstance(client.receive(encode(m.Changes(after=12, upto=15, records=[]))), ProtocolError)
    assert isinstance(client.receive(encode(m.Changes(after=10, upto=15, records=[]))), m.Changes)
    assert client.last_seq == 15


# ---- both ends together ----------------------------------------------------------------------


def to_server(client: ClientConnection, server: ServerConnection) -> list[Any]:
    return [server.receive(data) for data in client.data_to_send()]


def to_client(server: ServerConnection, client: ClientConnection) -> list[Any]:
    return [client.receive(data) for data in server.data_to_send()]


def test_round_trip_session(catalog: Catalog, incidents: list[Incident], records: list[Record]) -> None:
    """A server and a console exchange a whole session through data_to_send()."""
    store = {i.id: i for i in incidents}  # the server's table
    seq = len(incidents)
    cache: dict[int, Incident] = {}  # the console's cache

    def server_apply(cmd: m.Command) -> None:
        nonlocal seq
        incident = store[cmd.incident_id]
        try:
            changed = apply(
                incident,
                cmd.action,
                actor="officer.li",
                at=T0 + 100 + seq,
                standard=catalog.standard_for(incident.category),
                note=cmd.note,
                unit=cmd.unit,
                target_id=cmd.target_id,
            )
        except WorkflowError as exc:
            server.reject(cmd.key, exc.code, str(exc))
            return
        seq += 1
        store[changed.id] = changed
        record = to_record(changed, seq)
        server.changes(seq, [record])
        server.ack(cmd.key, seq, record)

    def console_take(events: list[Any]) -> None:
        for event in events:
            assert not isinstance(event, ProtocolError), event
            if isinstance(event, m.Snapshot | m.Changes):
                for r in event.records:
                    incident = from_record(r)
                    cache[incident.id] = incident
            elif isinstance(event, m.Ack) and event.record is not None:
                incident = from_record(event.record)
                assert incident.id == event.record[IDX["id"]]
                cache[incident.id] = incident

    server = ServerConnection()
    client = ClientConnection()

    # hello → welcome → snapshot in two chunks
    client.hello(TOKEN, 0, client="ws-01")
    (hello,) = to_server(client, server)
    assert isinstance(hello, m.Hello)
    assert hello.last_seq == 0
    server.welcome(welcome("snapshot", seq=seq), last_seq=hello.last_seq)
    server.snapshot(records[:2])
    server.snapshot(records[2:])
    server.snapshot_end(seq, len(records))
    events = to_client(server, client)
    assert [type(e) for e in events] == [m.Welcome, m.Snapshot, m.Snapshot, m.SnapshotEnd]
    console_take(events)
    assert client.state is ClientState.LIVE
    assert client.last_seq == seq == 3
    assert cache == store

    # a command and a ping: the change, the ack and the pong come back
    client.command(command("k1", incident_id=2, action=Action.REGISTER, note="属实"))
    client.ping(1.5)
    received = to_server(client, server)
    assert [type(e) for e in received] == [m.Command, m.Ping]
    server_apply(received[0])
    server.pong(received[1].t)
    events = to_client(server, client)
    assert [type(e) for e in events] == [m.Changes, m.Ack, m.Pong]
    console_take(events)
    assert client.last_seq == 4
    assert client.pending == set()
    assert cache[2].status == Status.REGISTERED
    assert cache[2].timeline[-1].note == "属实"
    assert cache == store

    # an illegal command is rejected and changes nothing
    client.command(command("k2", incident_id=3, action=Action.VERIFY))
    (cmd,) = to_server(client, server)
    server_apply(cmd)
    (reject,) = to_client(server, client)
    assert isinstance(reject, m.Reject)
    assert reject.code == "illegal_transition"
    assert "verify" in reject.reason and "reported" in reject.reason
    assert client.last_seq == 4
    assert cache == store

    # a message the server cannot take is answered with an error; the session goes on
    server.receive(b"garbage")
    (error,) = to_client(server, client)
    assert isinstance(error, m.Error)
    assert error.code == "malformed"

    # a change made by somebody else, and a range with nothing this user may see
    seq += 1
    store[1] = apply(
        store[1],
        Action.DISPATCH,
        actor="other",
        at=T0 + 200,
        standard=catalog.standard_for(store[1].category),
        unit="fire_brigade",
    )
    server.changes(seq, [to_record(store[1], seq)])
    server.changes(seq, [])  # nothing new: not sent
    seq += 3
    server.changes(seq, [])
    events = to_client(server, client)
    assert [(type(e), e.after, e.upto) for e in events] == [(m.Changes, 4, 5), (m.Changes, 5, 8)]
    console_take(events)
    assert client.last_seq == 8
    assert cache == store

    # reconnect: a new session catches up from where the console stands
    server2 = ServerConnection()
    client2 = ClientConnection()
    client2.hello(TOKEN, client.last_seq)
    (hello,) = to_server(client2, server2)
    assert isinstance(hello, m.Hello)
    assert hello.last_seq == 8
    server2.welcome(welcome("changes", seq=seq), last_seq=hello.last_seq)
    seq += 1
    store[3] = apply(
        store[3],
        Action.REGISTER,
        actor="other",
        at=T0 + 300,
        standard=catalog.standard_for(store[3].category),
    )
    server2.changes(seq, [to_record(store[3], seq)])
    events = to_client(server2, client2)
    assert [type(e) for e in events] == [m.Welcome, m.Changes]
    assert (events[1].after, events[1].upto) == (8, 9)
    console_take(events)
    assert client2.state is ClientState.LIVE
    assert client2.last_seq == 9
    assert cache == store


def test_wire_form_is_msgspec_json(records: list[Record]) -> None:
    """``encode`` is plain msgspec JSON with a ``type`` tag, decodable by any JSON reader."""
    msg = m.Changes(after=1, upto=2, records=records[:1])
    assert encode(msg) == msgspec.json.encode(msg)
    assert json.loads(encode(msg))["type"] == "changes"
    assert json.loads(encode(command()))["type"] == "command"
    assert json.loads(encode(command()))["action"] == "register"


def test_devices_follow_the_session_and_never_come_before_it() -> None:
    sensor = Device(id="SMK-1", kind=DeviceKind.SENSOR, type="smoke", name="烟感", lon=121.4, lat=31.24,
                    street="310107005")  # fmt: skip
    server = ServerConnection()
    server.devices([sensor], full=True)
    (data,) = server.data_to_send()
    client = ClientConnection()
    refused = client.receive(data)
    assert isinstance(refused, ProtocolError) and refused.code == "out_of_order"
    client.hello(TOKEN, last_seq=7)
    client.receive(encode(m.Welcome(v=VERSION, user="u", role="district_officer", street=None, field=None,
                                    display_name="", seq=7, mode="changes")))  # fmt: skip
    event = client.receive(data)
    assert isinstance(event, m.Devices) and event.full and event.devices == [sensor]
    # Nothing to say and not a full set: nothing is sent.
    server.devices([], full=False)
    assert server.data_to_send() == []
    server.devices([], full=True)
    (empty,) = server.data_to_send()
    assert msgspec.json.decode(empty) == {"type": "devices", "devices": [], "full": True}
