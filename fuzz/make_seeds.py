#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets into fuzz/corpus/<target>/.

Each seed is a valid input (the golden bytes of docs/PROTOCOL.md and the
tests) or a near miss of one. Run it again after changing a seed here; inputs
that the fuzzers found and that were added by hand (regressions) live beside
them in files whose names do not start with "seed-", and are left alone.
"""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def frames(*xs):
    """The input of the frames and zap targets: each frame a 2-byte
    little-endian length and its bytes (fuzz_input.hpp, split_frames)."""
    return b"".join(struct.pack("<H", len(x)) + x for x in xs)


def mp_str(x):
    x = x.encode() if isinstance(x, str) else x
    assert len(x) < 32
    return bytes([0xA0 | len(x)]) + x


def mp_bin(x):
    return bytes([0xC4, len(x)]) + x


def mp_map(*pairs):
    assert len(pairs) < 16
    return bytes([0x80 | len(pairs)]) + b"".join(k + v for k, v in pairs)


def mp_array(*xs):
    assert len(xs) < 16
    return bytes([0x90 | len(xs)]) + b"".join(xs)


HELLO = bytes.fromhex("82a4686f7374a93132372e302e302e31a4706f7274cd20d2")
R = bytes.fromhex("82a6746172676574c407337e337e337e33ab62726561646372756d6273"
                  "91c407317e317e317e31")
HB = b"\x80"
ECHO = mp_map((mp_str("text"), mp_str("hi")))
REJECTED = mp_map((mp_str("_rejected"), mp_str("no such key")))
R_INVALID = mp_map((mp_str("target"), mp_bin(b"3~3~3~3")),
                   (mp_str("breadcrumbs"), mp_array()))
R_LONG = mp_map((mp_str("target"), mp_str("carol-03")),
                (mp_str("breadcrumbs"),
                 mp_array(mp_bin(b"alice-01"), mp_str("bob-0002"))))

U1, U2, U3 = b"1~1~1~1", b"2~2~2~2", b"3~3~3~3"
LOCAL = b"fuzz-local-0001"
REQUEST, REPLY = b"\x01", b"\x02"

# A key pair made for these seeds only (zmq_curve_keypair).
PUBLIC_KEY = "({>{dA[AvyxW@t-y%<:8ypCBe=&wz>.a8&nTnJXv"
SECRET_KEY = "ayaa5C<yzq[8WPnqmA?Ss/jHT&$WFFF0fQ9deszG"
BANNER = ("#   ****  Generated on 2024-01-01 00:00:00 by pyzmq  ****\n"
          "#   ZeroMQ CURVE {} Certificate\n")

# The ZAP target trusts this 32-byte key for the domain fuzz-local-0001.
TRUSTED = b"0123456789abcdef0123456789abcdef"

SEEDS = {
    "frames": {
        "hello-request": frames(U1, b"", b"", REQUEST, b"hello", b"\x01",
                                HELLO),
        "hb-reply": frames(U1, b"", b"", REPLY, b"hb",
                           bytes.fromhex("cd012c"), HB),
        "r-request-relayed": frames(U2, U1, b"", REQUEST, b"r",
                                    bytes.fromhex("ce00011170"), R),
        "echo-reply-routed": frames(U2, U3, LOCAL, REPLY, b"echo", b"\x07",
                                    ECHO),
        "rejection": frames(U1, b"", U3, REPLY, b"shout", b"\x2a", REJECTED),
        "six-frames": frames(U1, b"", b"", REQUEST, b"hb", b"\x01"),
        "id-int64": frames(U1, b"", b"", REQUEST, b"hb",
                           bytes.fromhex("d3000000000000002a"), HB),
    },
    "payloads": {
        "hello": HELLO,
        "r": R,
        "r-invalid": R_INVALID,
        "r-str-uuids": R_LONG,
        "hb": HB,
        "echo": ECHO,
        "rejected": REJECTED,
        "nested": mp_map((mp_str("k"), mp_array(mp_map((mp_str("a"),
                                                         b"\xc0"))))),
    },
    "certificate": {
        "public.key": (BANNER.format("Public") +
                       "\nmetadata\ncurve\n    public-key = \"" +
                       PUBLIC_KEY + "\"\n").encode(),
        "secret.key_secret": (BANNER.format("**Secret**") +
                              "\nmetadata\ncurve\n    public-key = \"" +
                              PUBLIC_KEY + "\"\n    secret-key = \"" +
                              SECRET_KEY + "\"\n").encode(),
        "metadata.key": ("metadata\n    name = \"alice\"  # who\ncurve\r\n"
                         "    public-key = '" + PUBLIC_KEY + "'\n").encode(),
    },
    "zap": {
        "curve-trusted": frames(b"1.0", b"1", LOCAL, b"127.0.0.1", b"",
                                b"CURVE", TRUSTED),
        "curve-unknown": frames(b"1.0", b"2", LOCAL, b"127.0.0.1", b"",
                                b"CURVE", b"\x00" * 32),
        "other-domain": frames(b"1.0", b"3", b"other-peer", b"10.0.0.7",
                               b"id", b"CURVE", TRUSTED),
        "null": frames(b"1.0", b"4", LOCAL, b"127.0.0.1", b"", b"NULL"),
        "plain": frames(b"1.0", b"5", LOCAL, b"127.0.0.1", b"", b"PLAIN",
                        b"user", b"password"),
        "version-2": frames(b"2.0", b"6", LOCAL, b"127.0.0.1", b"",
                            b"CURVE", TRUSTED),
        "five-frames": frames(b"1.0", b"7", LOCAL, b"127.0.0.1", b""),
    },
    # A datagram on the beacon port, or a pex payload (docs/PROTOCOL.md).
    "discovery": {
        "beacon": b"P0MQ\x01\x06\x20\xd2node-1",
        "beacon-port-0": b"P0MQ\x01\x06\x00\x00node-1",
        "beacons": b"P0MQ\x01\x06\x20\xd2node-1\xff\x01"
                   b"P0MQ\x01\x06\x20\xd3node-2",
        "leave": mp_map((mp_str("op"), mp_str("leave")),
                        (mp_str("degree"), b"\x03")),
        "answer": mp_map((mp_str("op"), mp_str("answer")),
                         (mp_str("degree"), b"\x09"),
                         (mp_str("accepted"), b"\x01")),
        "sample": mp_map((mp_str("op"), mp_str("sample")),
                         (mp_str("degree"), b"\x02"),
                         (mp_str("peers"), mp_array(mp_bin(b"node-1"))),
                         (mp_str("addresses"),
                          mp_array(mp_str("10.0.0.1:8402")))),
    },
}


def packed(width, *xs):
    """Big-endian integers of `width` bytes each, as the group command packs
    its numbers."""
    return b"".join(x.to_bytes(width, "big") for x in xs)


def mp_int(x):
    assert 0 <= x < 128
    return bytes([x])


SEEDS["groups"] = {
    "membership": mp_map(
        (mp_str("op"), mp_str("m")),
        (mp_str("o"), mp_array(mp_bin(b"peer-a-01"), mp_bin(b"peer-b-02"))),
        (mp_str("v"), mp_bin(packed(8, (1 << 60) + 1, 7))),
        (mp_str("n"), mp_bin(packed(4, 0, 3))),
        (mp_str("gs"), mp_array(mp_str("chat news"), mp_str("")))),
    "publication": mp_map(
        (mp_str("op"), mp_str("p")),
        (mp_str("g"), mp_str("chat")),
        (mp_str("o"), mp_bin(b"peer-a-01")),
        (mp_str("i"), mp_int(7)),
        (mp_str("s"), mp_int(3)),
        (mp_str("h"), mp_int(10)),
        (mp_str("t"), mp_array(mp_bin(b"peer-b-02"), mp_bin(b"peer-c-03"))),
        (mp_str("p"), mp_bin(packed(8, 2, 0))),
        (mp_str("d"), mp_bin(mp_map((mp_str("seq"), mp_int(3)))))),
    "publication-bad-previous": mp_map(
        (mp_str("op"), mp_str("p")),
        (mp_str("g"), mp_str("chat")),
        (mp_str("o"), mp_bin(b"peer-a-01")),
        (mp_str("i"), mp_int(7)),
        (mp_str("s"), mp_int(3)),
        (mp_str("h"), mp_int(10)),
        (mp_str("t"), mp_array(mp_bin(b"peer-b-02"))),
        (mp_str("p"), mp_bin(packed(8, 3))),
        (mp_str("d"), mp_bin(mp_map()))),
}


def main():
    for target, seeds in SEEDS.items():
        folder = os.path.join(ROOT, target)
        os.makedirs(folder, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(folder, "seed-" + name), "wb") as out:
                out.write(data)


if __name__ == "__main__":
    main()
