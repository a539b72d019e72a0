"""Bitstream inspection for the pyav backend: pure functions over one packet's bytes.

Which packets are *disposable*, pictures no other picture references (so the sparse decode
may skip them when they are not targets):

* H.264: every slice NAL of the access unit has ``nal_ref_idc == 0``;
* HEVC: every VCL NAL is a sub-layer non-reference type (TRAIL_N, TSA_N, STSA_N, RADL_N, RASL_N,
  RSV_VCL_N10/12/14), and (decided by ``_packet_index.scan`` over the whole stream) in the
  highest temporal sub-layer present.

Packets are length-prefixed (avcC / hvcC extradata) or Annex B (start codes); a packet whose
framing is not what we expect is treated as a reference picture (never skipped).
"""

from __future__ import annotations

import struct
from typing import Any

__all__ = ["h264_disposable", "hevc_vcl", "nal_length_size", "nal_offsets"]

_H264_SLICE_TYPES = frozenset({1, 2, 3, 4, 5})  # non-IDR slice, data partitions A/B/C, IDR slice
_HEVC_SUBLAYER_NONREF = frozenset({0, 2, 4, 6, 8, 10, 12, 14})  # TRAIL_N ... RSV_VCL_N14
# Length prefixes read in place (no slice object per NAL): nal_offsets twice as fast (0.18 -> 0.10 ms
# for the 300 packets of a 10 s 374x374 clip); 3-byte prefixes keep int.from_bytes.
_PREFIX = {1: struct.Struct(">B").unpack_from, 2: struct.Struct(">H").unpack_from, 4: struct.Struct(">I").unpack_from}


def nal_length_size(extradata: bytes | None, codec: str) -> int | None:
    """Length-prefix size of NAL units (avcC / hvcC), 0 for Annex B start codes, None if unknown."""
    if not extradata or extradata[:3] == b"\0\0\1" or extradata[:4] == b"\0\0\0\1":
        return 0
    if extradata[0] != 1:  # configurationVersion
        return None
    if codec == "h264" and len(extradata) >= 7:
        return (extradata[4] & 3) + 1
    if codec == "hevc" and len(extradata) >= 23:
        return (extradata[21] & 3) + 1
    return None


def nal_offsets(buf: Any, length_size: int) -> list[int] | None:
    """Offset of each NAL unit's header in one packet (length-prefixed, or Annex B when 0).

    None when the length prefixes do not tile the packet exactly (not the framing we expect):
    callers then treat the packet as a reference picture.
    """
    end = len(buf)
    offsets = []
    if length_size == 0:
        data = bytes(buf)
        i = data.find(b"\0\0\1")
        while 0 <= i < end - 3:
            offsets.append(i + 3)
            i = data.find(b"\0\0\1", i + 3)
        return offsets
    i, unpack = 0, _PREFIX.get(length_size)
    while i + length_size < end:
        size = unpack(buf, i)[0] if unpack else int.from_bytes(buf[i : i + length_size], "big")
        if size:
            offsets.append(i + length_size)
        i += length_size + size
    return offsets if i == end else None


def h264_disposable(buf: Any, length_size: int) -> bool:
    """True when the access unit has slices and all of them have ``nal_ref_idc == 0``."""
    seen = False
    for o in nal_offsets(buf, length_size) or ():
        h = buf[o]
        if h & 0x1F in _H264_SLICE_TYPES:
            if h & 0x60:
                return False
            seen = True
    return seen


def hevc_vcl(buf: Any, length_size: int) -> tuple[bool, int]:
    """(all VCL NALs are sub-layer non-reference, highest TemporalId of them; -1 without VCL)."""
    nonref, tid = True, -1
    end = len(buf)
    for o in nal_offsets(buf, length_size) or ():
        if o + 1 >= end:
            break
        nal_type = (buf[o] >> 1) & 0x3F
        if nal_type < 32:  # VCL
            nonref = nonref and nal_type in _HEVC_SUBLAYER_NONREF
            tid = max(tid, (buf[o + 1] & 7) - 1)
    return nonref and tid >= 0, tid
