"""The video jitter buffer releases a picture at its last packet (the RTP marker bit), not a
frame interval later when the next picture's first packet arrives."""

from __future__ import annotations

from aiortc.rtp import RtpPacket

from comms.rtc.peer import MarkerJitterBuffer


def packet(seq: int, timestamp: int, marker: bool, data: bytes) -> RtpPacket:
    p = RtpPacket(payload_type=96, sequence_number=seq, timestamp=timestamp)
    p.marker = int(marker)
    p._data = data  # type: ignore[attr-defined]  # as aiortc's receiver sets it (depayloaded)
    return p


def test_a_picture_comes_out_with_its_last_packet() -> None:
    jb = MarkerJitterBuffer(capacity=128, is_video=True)
    assert jb.add(packet(100, 9000, False, b"a"))[1] is None
    assert jb.add(packet(101, 9000, False, b"b"))[1] is None
    frame = jb.add(packet(102, 9000, True, b"c"))[1]
    assert frame is not None and frame.data == b"abc" and frame.timestamp == 9000
    # The next picture, likewise, without waiting for the one after it.
    assert jb.add(packet(103, 15000, False, b"d"))[1] is None
    frame = jb.add(packet(104, 15000, True, b"e"))[1]
    assert frame is not None and frame.data == b"de" and frame.timestamp == 15000


def test_a_missing_packet_holds_the_picture_back() -> None:
    jb = MarkerJitterBuffer(capacity=128, is_video=True)
    assert jb.add(packet(200, 100, False, b"a"))[1] is None
    # 201 is late: the marker alone does not release a picture with a hole in it.
    assert jb.add(packet(202, 100, True, b"c"))[1] is None
    frame = jb.add(packet(201, 100, False, b"b"))[1]
    assert frame is not None and frame.data == b"abc"


def test_without_a_marker_the_next_picture_releases_it_as_before() -> None:
    jb = MarkerJitterBuffer(capacity=128, is_video=True)
    assert jb.add(packet(300, 100, False, b"a"))[1] is None
    assert jb.add(packet(301, 100, False, b"b"))[1] is None
    frame = jb.add(packet(302, 200, False, b"x"))[1]
    assert frame is not None and frame.data == b"ab" and frame.timestamp == 100
