#!/usr/bin/env python3
"""Writes the seed corpora of fuzz_receive and fuzz_client (fuzz/corpus/receive, fuzz/corpus/client).

The receive seeds are scripts in fuzz/receive_fuzz.cpp's format, with notifications laid out as
Linux's <linux/sctp.h> structs are on x86-64 (little-endian): every type the layer decodes, as one
read and split over two. fuzz/corpus/config holds YAML files taken from the tests and config/.
Run from anywhere: python3 fuzz/make_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# <linux/sctp.h>
ASSOC_CHANGE, PEER_ADDR_CHANGE, SEND_FAILED, REMOTE_ERROR, SHUTDOWN_EVENT = 0x8001, 0x8002, 0x8003, 0x8004, 0x8005
PARTIAL_DELIVERY, ADAPTATION, AUTHENTICATION, SENDER_DRY, STREAM_RESET = 0x8006, 0x8007, 0x8008, 0x8009, 0x800A
SEND_FAILED_EVENT = 0x800D
COMM_UP, COMM_LOST, RESTART, SHUTDOWN_COMP, CANT_STR_ASSOC = 0, 1, 2, 3, 4
ADDR_AVAILABLE, ADDR_UNREACHABLE = 0, 1
AF_INET, AF_INET6 = 2, 10

# receive_fuzz.cpp's script
EOR, NOTIFICATION, BORROW, MOVE = 1, 2, 4, 0x80
CTRL_RCVINFO, CTRL_SNDRCV, CTRL_NONE, CTRL_RAW = 0 << 3, 1 << 3, 2 << 3, 3 << 3
FROM_NONE, FROM_V4, FROM_V6, FROM_RAW = 0 << 5, 1 << 5, 2 << 5, 3 << 5


def limits(max_message=3, budget=3):
    """max_message: 0-3 = 8, 64, 1024, 64 KiB; budget: 0-3 = none, 16, 256, 1 MiB."""
    return bytes([max_message | budget << 2])


def read(op, assoc=1, payload=b"", stream=0, ppid=18, flags=0, context=0, v4=(36412, "127.0.0.1")):
    out = bytes([op, assoc])
    ctrl = op & (3 << 3)
    if ctrl in (CTRL_RCVINFO, CTRL_SNDRCV):
        out += struct.pack("<HHII", stream, flags, ppid, context)
    elif ctrl == CTRL_RAW:
        raw = b""  # filled by callers that want it
        out += bytes([len(raw)]) + raw
    sender = op & (3 << 5)
    if sender == FROM_V4:
        port, host = v4
        out += struct.pack(">H", port) + bytes(int(x) for x in host.split("."))
    elif sender == FROM_V6:
        out += struct.pack(">H", 36412) + bytes(15) + b"\x01" + b"\x00"
    elif sender == FROM_RAW:
        out += b"\x00"
    if len(payload) < 255:
        out += bytes([len(payload)])
    else:
        out += b"\xff" + struct.pack("<H", len(payload))
    return out + payload


def notify(body, assoc=0, split=None):
    """A notification read (or two, split at `split`), no control data, an IPv4 sender."""
    if split is None:
        return read(NOTIFICATION | EOR | CTRL_NONE | FROM_V4, assoc, body)
    return (read(NOTIFICATION | CTRL_NONE | FROM_V4, assoc, body[:split]) +
            read(NOTIFICATION | EOR | CTRL_NONE | FROM_V4, assoc, body[split:]))


def assoc_change(state, assoc, error=0, out_streams=16, in_streams=16):
    return struct.pack("<HHIHHHHi", ASSOC_CHANGE, 0, 20, state, error, out_streams, in_streams, assoc)


def sockaddr_storage(family, port, addr):
    if family == AF_INET:
        sa = struct.pack("<H", AF_INET) + struct.pack(">H", port) + addr + bytes(8)
    else:
        sa = struct.pack("<H", AF_INET6) + struct.pack(">H", port) + bytes(4) + addr + struct.pack("<I", 0)
    return sa + bytes(128 - len(sa))


def paddr_change(family, addr, state, assoc):
    return struct.pack("<HHI", PEER_ADDR_CHANGE, 0, 148) + sockaddr_storage(family, 36412, addr) + \
        struct.pack("<iii", state, 0, assoc)


def send_failed_event(assoc, data, chunk_flags=3, sent=0):
    sndinfo = struct.pack("<HHIIi", 2, chunk_flags, struct.unpack("<I", struct.pack(">I", 46))[0], 7, assoc)
    return struct.pack("<HHII", SEND_FAILED_EVENT, sent, 32 + len(data), 0) + sndinfo + \
        struct.pack("<i", assoc) + data


def send_failed(assoc, data):
    sndrcv = struct.pack("<HHHxxIIIIIi", 2, 0, 1, struct.unpack("<I", struct.pack(">I", 46))[0], 7, 0, 0, 0, assoc)
    return struct.pack("<HHII", SEND_FAILED, 1, 48 + len(data), 0) + sndrcv + struct.pack("<i", assoc) + data


def simple(type_, assoc, size=12):
    body = struct.pack("<HHI", type_, 0, size)
    return body + bytes(size - len(body) - 4) + struct.pack("<i", assoc)


def receive_seeds():
    data = CTRL_RCVINFO | FROM_V4
    s = {}
    s["whole-message"] = limits() + read(data | EOR, 1, b"hello")
    s["whole-message-borrowed-v6"] = limits() + read(CTRL_RCVINFO | FROM_V6 | EOR | BORROW, 2, b"hello", flags=1)
    s["old-sndrcv"] = limits() + read(CTRL_SNDRCV | FROM_V4 | EOR, 3, b"sndrcv", stream=5, ppid=46)
    s["no-control-data"] = limits() + read(CTRL_NONE | FROM_NONE | EOR, 0, b"bare")
    s["pieces"] = limits() + read(data, 1, b"abc") + read(data, 1, b"def") + read(data | EOR, 1, b"ghi")
    s["interleaved"] = (limits() + read(data, 1, b"one-") + read(data | EOR, 2, b"two") +
                        read(data, 3, b"three-") + read(data | EOR, 1, b"one") + read(data | EOR, 3, b"three"))
    s["moved-mid-message"] = limits(3, 2) + read(data, 1, b"before-") + read(data | MOVE | EOR, 1, b"after")
    s["oversize-whole"] = limits(0) + read(data | EOR, 1, b"0123456789")
    s["oversize-pieces"] = limits(0) + read(data, 1, b"0123") + read(data, 1, b"4567") + \
        read(data, 1, b"89") + read(data | EOR, 1, b"ab") + read(data | EOR, 1, b"next")
    s["over-budget"] = limits(2, 1) + read(data, 1, b"0123456789") + read(data, 2, b"0123456789") + \
        read(data | EOR, 1, b"x") + read(data | EOR, 2, b"y")
    s["large-piece"] = limits(3, 3) + read(data, 1, bytes(300)) + read(data | EOR, 1, bytes(10))
    s["assoc-up"] = limits() + notify(assoc_change(COMM_UP, 1))
    s["assoc-lost-mid-message"] = limits(3, 2) + read(data, 1, b"half") + notify(assoc_change(COMM_LOST, 1))
    s["assoc-shutdown-comp"] = limits(3, 2) + read(data, 2, b"half") + notify(assoc_change(SHUTDOWN_COMP, 2))
    s["assoc-cant-start"] = limits() + notify(assoc_change(CANT_STR_ASSOC, 3, error=1))
    s["assoc-restart-split"] = limits() + notify(assoc_change(RESTART, 1), split=6)
    s["paddr-v4"] = limits() + notify(paddr_change(AF_INET, bytes([10, 0, 0, 2]), ADDR_UNREACHABLE, 1))
    s["paddr-v6"] = limits() + notify(paddr_change(AF_INET6, bytes(15) + b"\x01", ADDR_AVAILABLE, 1))
    s["paddr-v4-mapped"] = limits() + notify(
        paddr_change(AF_INET6, bytes(10) + b"\xff\xff" + bytes([192, 0, 2, 1]), ADDR_AVAILABLE, 1), split=100)
    s["send-failed-event"] = limits() + notify(send_failed_event(1, b"lost message"))
    s["send-failed-event-pieces"] = limits() + notify(send_failed_event(1, b"first", chunk_flags=2, sent=1)) + \
        notify(send_failed_event(1, b"last", chunk_flags=1, sent=1), split=20)
    s["send-failed-old"] = limits() + notify(send_failed(2, b"old format"))
    s["shutdown"] = limits() + notify(simple(SHUTDOWN_EVENT, 1))
    s["sender-dry"] = limits() + notify(simple(SENDER_DRY, 2))
    s["partial-delivery-aborted"] = limits(3, 2) + read(data, 1, b"half") + \
        notify(struct.pack("<HHIIi", PARTIAL_DELIVERY, 0, 24, 0, 1) + struct.pack("<II", 0, 0))
    s["remote-error"] = limits() + notify(struct.pack("<HHIHHi", REMOTE_ERROR, 0, 20, 0, 0, 1) + b"\x00\x01\x00\x04")
    s["adaptation"] = limits() + notify(struct.pack("<HHIIi", ADAPTATION, 0, 16, 7, 1))
    s["authentication"] = limits() + notify(struct.pack("<HHIHHIi", AUTHENTICATION, 0, 20, 1, 0, 0, 1))
    s["stream-reset"] = limits() + notify(struct.pack("<HHIi", STREAM_RESET, 0, 12, 1))
    s["short-notification"] = limits() + notify(struct.pack("<H", ASSOC_CHANGE))
    return s


def client_seeds():
    def args(command, *argv):
        return bytes([0 if command == "send" else 1]) + b"\x00".join(a.encode() for a in argv)
    return {
        "send-generated": args("send", "--count", "1000", "--size", "1024", "--streams", "0-7", "--ppid", "18",
                               "127.0.0.1", "36412"),
        "send-lines": args("send", "--stream", "3", "--ppid", "46", "--unordered", "--wait-replies", "1",
                           "127.0.0.1", "36412"),
        "send-verify": args("send", "127.0.0.1", "5000", "--count", "3", "--size", "64", "--streams", "0-2",
                            "--wait-replies", "3", "--verify", "--json"),
        "send-everything": args("send", "--file=messages.txt", "--local", "10.0.0.1,10.0.0.2", "--init-streams",
                                "32", "--timeout", "2.5", "--hex", "--max-size", "100", "::1,[fe80::1%2]", "1"),
        "send-small-header-cut": args("send", "--count", "2", "--size", "5", "--stream=65534", "h", "9"),
        "listen-echo": args("listen", "--bind", "127.0.0.1,127.0.0.2", "--echo", "38412"),
        "listen-verify": args("listen", "6000", "--bind", "127.0.0.1", "--json", "--verify", "--count", "1000"),
        "listen-everything": args("listen", "--streams", "8", "--timeout=1", "--max-size=1", "--hex", "0"),
        "payload-generated": args("send", "seq=7 stream=2 opqrstuvwxyzabcdefgh"),
        "payload-lines": args("send", "first line\r\nsecond\n\n\r\nthird"),
        "payload-binary": bytes([0]) + bytes(range(1, 64)) + "é\"\\".encode(),
    }


def write(directory, seeds):
    os.makedirs(directory, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    write(os.path.join(HERE, "corpus", "receive"), receive_seeds())
    write(os.path.join(HERE, "corpus", "client"), client_seeds())
