"""The sync channel's wire protocol, sans-I/O, shared by the server and the console."""

from comms.protocol.connection import (
    MAX_CLIENT_MESSAGE,
    ClientConnection,
    ClientState,
    ProtocolError,
    ServerConnection,
    ServerState,
    encode,
)
from comms.protocol.messages import VERSION

__all__ = [
    "MAX_CLIENT_MESSAGE",
    "VERSION",
    "ClientConnection",
    "ClientState",
    "ProtocolError",
    "ServerConnection",
    "ServerState",
    "encode",
]
