"""``_bitstream.nal_offsets`` on length-prefixed packets of every prefix size: the offsets of a
plain reading of the prefixes, and None when they do not tile the packet."""

from __future__ import annotations

import random

from trtllm_mmfast.video._bitstream import nal_offsets


def _reference(buf: bytes, n: int) -> list[int] | None:
    out, i = [], 0
    while i + n < len(buf):
        size = int.from_bytes(buf[i : i + n], "big")
        if size:
            out.append(i + n)
        i += n + size
    return out if i == len(buf) else None


def test_length_prefixed_offsets_every_prefix_size():
    rng = random.Random(16)
    for n in (1, 2, 3, 4):
        for _ in range(300):
            sizes = [rng.choice((0, 1, 2, 5, 40, 200)) for _ in range(rng.randint(0, 6))]
            buf = b"".join(s.to_bytes(n, "big") + bytes(rng.randrange(256) for _ in range(s)) for s in sizes)
            if rng.random() < 0.3 and buf:  # cut or padded: no longer tiles (or tiles by chance)
                buf = buf[: rng.randrange(len(buf))] if rng.random() < 0.5 else buf + b"\x07"
            for view in (buf, memoryview(buf)):
                assert nal_offsets(view, n) == _reference(buf, n), (n, sizes, buf[:16])
    assert nal_offsets(b"\0\0\0\2ab\0\0\0\1c", 4) == [4, 10]
    assert nal_offsets(b"\0\0\0\5ab", 4) is None
