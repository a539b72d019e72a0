"""The pyav backend's packet table: ``scan`` demuxes once (no pixel decoded) into a frozen
``PacketIndex``; ``plan_runs`` is the pure choice of which packets a set of targets needs;
``PacketReader`` reads runs of packets by ordinal back off an open container (seeking).

Packets are numbered by *ordinal*, their position in decode order. Source frame ``i`` is the
i-th packet in presentation (pts) order, leaving out the packets an edit list marks as
discarded: the frames, and the order, a full decode outputs (and OpenCV counts). Streams whose
packets lack unique pts are not ``sparse``: frames are numbered in output order instead.

A truncated stream (the demuxer stops early, or yields fewer packets than the container
declares) keeps only the frames whose numbering is certain: packets lost after the cut have
pts >= their dts > the last dts read, so frames presented after that dts are left out.

``plan_runs``: a target needs the packets from the keyframe that opens its GOP up to its own
packet, in decode order; a leading picture of an open GOP (pts before its keyframe's) needs
the previous GOP as well. These ranges merge into runs; runs separated only by disposable
packets are joined (reading on is cheaper than draining and seeking).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

from ._bitstream import h264_disposable, hevc_vcl, nal_length_size

__all__ = ["PacketIndex", "PacketReader", "RunPlan", "build_index", "plan_runs", "scan"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PacketIndex:
    """Every video packet of one stream, in decode order (index = ordinal)."""

    pts: tuple[int | None, ...]
    dts: tuple[int | None, ...]
    keyframe: tuple[bool, ...]
    disposable: tuple[bool, ...]  # no other picture references it (see ``_bitstream``)
    frame_packet: tuple[int, ...]  # source frame number -> ordinal of its packet
    gop_start: tuple[int, ...]  # ordinal -> ordinal of the keyframe opening its GOP
    gop_id: tuple[int, ...]  # ordinal -> number of its GOP (0, 1, ...)
    num_gops: int
    nondisp_before: tuple[int, ...]  # ordinal -> non-disposable packets before it (len n + 1)
    sparse: bool  # pts are present and unique: frames can be matched to targets by pts
    ordinal: Mapping[int, int] = field(repr=False)  # pts -> ordinal (sparse streams only)
    notes: tuple[str, ...] = ()  # what the scan found wrong (truncation), for the damage report

    @property
    def num_packets(self) -> int:
        return len(self.pts)

    @property
    def total_num_frames(self) -> int:
        return len(self.frame_packet)


def _gops(key: Sequence[bool]) -> tuple[list[int], list[int], int]:
    gop_start, gop_id = [0] * len(key), [0] * len(key)
    start, gid = 0, 0
    for q, is_key in enumerate(key):
        if is_key and q > 0:
            start, gid = q, gid + 1
        gop_start[q], gop_id[q] = start, gid
    return gop_start, gop_id, (gid + 1 if key else 0)


def build_index(
    pts: Sequence[int | None],
    dts: Sequence[int | None],
    key: Sequence[bool],
    discard: Sequence[bool],
    disp: Sequence[bool],
    tids: Sequence[int] = (),
    *,
    truncated: bool = False,
    notes: Sequence[str] = (),
) -> PacketIndex:
    """The ``PacketIndex`` of per-packet facts in decode order (pure; ``scan`` gathers them).

    ``discard``: the edit list drops the packet; ``tids``: HEVC TemporalId per packet (empty
    for other codecs); ``truncated``: packets are missing at the end.
    """
    if truncated and pts and None not in pts and dts[-1] is not None:
        # Lost packets have pts >= dts > dts[-1]: a frame presented later could be numbered wrong.
        horizon = dts[-1]
        discard = [d or p > horizon for d, p in zip(discard, pts)]  # type: ignore[operator]
    if tids:  # HEVC: only the highest temporal sub-layer present is never referenced
        top = max(tids)
        disp = [d and t == top for d, t in zip(disp, tids)]
    n = len(pts)
    sparse = n > 0 and None not in pts and len(set(pts)) == n
    if sparse:
        order = sorted((p, q) for q, p in enumerate(pts) if not discard[q])  # type: ignore[type-var]
        frame_packet = [q for _, q in order]
        ordinal = {p: q for q, p in enumerate(pts)}
    else:
        frame_packet = [q for q in range(n) if not discard[q]]
        ordinal = {}
    gop_start, gop_id, num_gops = _gops(key)
    nondisp = np.concatenate(([0], np.cumsum(~np.asarray(disp, dtype=bool)))).astype(int).tolist()
    return PacketIndex(
        pts=tuple(pts), dts=tuple(dts), keyframe=tuple(bool(k) for k in key), disposable=tuple(bool(d) for d in disp),
        frame_packet=tuple(frame_packet), gop_start=tuple(gop_start), gop_id=tuple(gop_id), num_gops=num_gops,
        nondisp_before=tuple(nondisp), sparse=sparse, ordinal=ordinal, notes=tuple(notes),
    )  # fmt: skip


def scan(container: Any, stream: Any, *, label: str) -> PacketIndex:
    """Demux ``stream`` of an open PyAV ``container`` to its end (packets only) into a ``PacketIndex``.

    A damaged or truncated container keeps what was read (and says so in ``notes``).
    """
    import av

    codec = stream.codec_context.codec.name
    nal_size = nal_length_size(stream.codec_context.extradata, codec) if codec in ("h264", "hevc") else None
    pts: list[int | None] = []
    dts: list[int | None] = []
    key: list[bool] = []
    discard: list[bool] = []
    disp: list[bool] = []
    tids: list[int] = []
    notes: list[str] = []
    try:
        for pkt in container.demux(stream):
            if not pkt.size:
                continue  # the flush packet at EOF, or an empty one
            pts.append(pkt.pts)
            dts.append(pkt.dts)
            key.append(pkt.is_keyframe)
            discard.append(pkt.is_discard)
            if nal_size is None:
                disp.append(pkt.is_disposable)
            elif codec == "h264":
                disp.append(h264_disposable(memoryview(pkt), nal_size))
            else:
                nonref, tid = hevc_vcl(memoryview(pkt), nal_size)
                disp.append(nonref)
                tids.append(tid)
    except av.FFmpegError as e:  # damaged or truncated: keep what was read
        log.debug("%s: demuxing stopped after %d packets: %s", label, len(pts), e)
        notes.append(f"the container ends early, after {len(pts)} packets ({e})")
        truncated = True
    else:
        truncated = 0 < len(pts) < (stream.frames or 0)
        if truncated:
            notes.append(f"{len(pts)} of the {stream.frames} packets the container declares are present")
    return build_index(pts, dts, key, discard, disp, tids, truncated=truncated, notes=notes)


@dataclass(frozen=True)
class RunPlan:
    """The packets one sparse decode sends: ``runs`` of ordinals (inclusive), in decode order."""

    runs: tuple[tuple[int, int], ...]
    slot_of: Mapping[int, int]  # pts of a target's packet -> its position in ``targets``
    target_packets: frozenset[int]


def plan_runs(index: PacketIndex, targets: Sequence[int]) -> RunPlan:
    """Which packet runs decode ``targets`` (unique sorted source frame numbers) on a sparse index."""
    pts, gop_start, nondisp = index.pts, index.gop_start, index.nondisp_before
    slot_of: dict[int, int] = {}
    target_packets: set[int] = set()
    for k, t in enumerate(targets):
        if 0 <= t < index.total_num_frames:
            q = index.frame_packet[t]
            slot_of[pts[q]] = k  # type: ignore[index]
            target_packets.add(q)
    ranges = []
    for q in target_packets:
        s = gop_start[q]
        if s > 0 and pts[q] < pts[s]:  # type: ignore[operator]  # leading picture of an open GOP
            s = gop_start[s - 1]
        ranges.append((s, q))
    runs: list[list[int]] = []
    for s, e in sorted(ranges):
        if runs and (s <= runs[-1][1] + 1 or nondisp[s] == nondisp[runs[-1][1] + 1]):
            runs[-1][1] = max(runs[-1][1], e)
        else:
            runs.append([s, e])
    return RunPlan(tuple((s, e) for s, e in runs), slot_of, frozenset(target_packets))


class PacketReader:
    """Reading packets by ordinal off an open container, seeking to keyframes: a mixin of the pyav
    backend's decoder context, which provides ``index``, ``_container``, ``_stream``, ``_it`` (the
    demux iterator, None when the position is unknown), ``_pending``, ``_pos``, ``stats.seeks``,
    ``_run_notes``, ``_av``, ``_source`` and ``_reopen()``."""

    index: PacketIndex
    _av: Any
    _container: Any
    _stream: Any
    _it: Iterator[Any] | None
    _pending: tuple[int, Any] | None
    _pos: int
    _run_notes: list[str]
    _source: Any
    stats: Any

    def _reopen(self) -> None:
        raise NotImplementedError

    def _read(self, start: int, end: int) -> Iterator[tuple[int, Any]]:
        """(ordinal, packet) for ordinals start..end, seeking when start lies in a later GOP."""
        nxt = self._pending[0] if self._pending else self._pos
        gop_id = self.index.gop_id
        if self._it is None or not (nxt <= start and gop_id[start] == gop_id[min(nxt, self.index.num_packets - 1)]):
            self._seek(start)
        while True:
            item, self._pending = self._pending or self._next_packet(), None
            if item is None:
                return  # end of data (or a damaged tail)
            q, pkt = item
            if q < start:
                continue
            if q > end:
                self._pending = item
                return
            yield item
            if q == end:
                return

    def _next_packet(self) -> tuple[int, Any] | None:
        if self._it is None:
            return None
        try:
            for pkt in self._it:
                q = self.index.ordinal.get(pkt.pts) if pkt.size else None
                if q is not None:
                    self._pos = q + 1
                    return q, pkt
        except self._av.FFmpegError as e:
            log.debug("%s: demuxing stopped early: %s", self._source.label, e)
            self._run_notes.append(f"demuxing stopped early ({e})")
        self._it, self._pos = None, self.index.num_packets
        return None

    def _seek(self, start: int) -> None:
        """Position the demuxer at or before packet ``start`` (a keyframe): seek by its pts, then
        its dts (lands earlier on some containers), and reopen the container as a last resort."""
        self._pending = None
        stream = self._stream
        for ts in dict.fromkeys((self.index.pts[start], self.index.dts[start])):
            if ts is None:
                continue
            try:
                self._container.seek(ts, stream=stream, backward=True)
            except self._av.FFmpegError:
                continue
            self.stats.seeks += 1
            self._it = self._container.demux(stream)
            first = self._next_packet()
            if first is not None and first[0] <= start:
                self._pending = first
                return
        self._reopen()
        self._it = self._container.demux(self._stream)
        self._pos = 0

