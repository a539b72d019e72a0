"""``pyav`` backend: exact sparse decode with PyAV (FFmpeg), decoding only what the targets need.

Opening demuxes the video stream once, packets only (no pixel is decoded), and keeps a table
in decode order: pts, keyframe flag, and whether the packet is *disposable*, a picture that no
other picture references:

* H.264: every slice NAL of the access unit has ``nal_ref_idc == 0``;
* HEVC: every VCL NAL is a sub-layer non-reference type (TRAIL_N, TSA_N, STSA_N, RADL_N, RASL_N,
  RSV_VCL_N10/12/14) in the highest temporal sub-layer present in the stream;
* other codecs: the demuxer's disposable flag where it sets one (e.g. MP4 ``sdtp``), else never.

Source frame ``i`` is the i-th packet in presentation (pts) order, leaving out the packets an
edit list marks as discarded: the frames, and the order, a full decode outputs (and OpenCV counts).

``decode(indices)`` sends the decoder the minimum set of packets:

1. a target needs the packets from the keyframe that opens its GOP up to its own packet, in
   decode order; a leading picture of an open GOP (pts before its keyframe's) needs the previous
   GOP as well;
2. these ranges merge into runs; runs separated only by disposable packets are joined;
3. between runs the decoder is drained and flushed, and the demuxer seeks to the next run's
   keyframe when that lies in a later GOP than the current position (else it reads on); a seek
   goes by the keyframe's pts, then its dts, and must land at or before it (packets before it
   are dropped), else the container is reopened and read from the start;
4. inside a run, disposable packets that are not targets are never sent;
5. decoded frames are matched to targets by pts, and only targets are converted to RGB, into
   their output slot, exactly as OpenCV does it (swscale bicubic to bgr24, then BGR->RGB).

Streams whose packets lack unique pts fall back to one sequential decode that numbers frames in
output order, as OpenCV does.

Rotation: like OpenCV (``CAP_PROP_ORIENTATION_AUTO``, on by default, so TensorRT-LLM's stock loader
gets it too), a display matrix of a multiple of 90 degrees is applied: frames come out upright as a
player shows them. PyAV exposes the matrix only on decoded frames, so ``info`` has the coded size
until the first target is decoded, and the rotated size from then on (the pixel count is the same,
so limits are unaffected); ``load_video`` reads ``info`` again after decoding.

A truncated stream (the demuxer stops early, or yields fewer packets than the container declares)
keeps only the frames whose numbering is certain: packets lost after the cut have pts >= their dts >
the last dts read, so frames presented after that dts are left out of the frame table.

Damage in the middle: a packet the decoder rejects loses its frame. If it was a reference picture,
every frame output after it is skipped until the first frame presented at or after the next
keyframe: FFmpeg would return concealed guesses for them. (Damage the decoder does not detect
cannot be seen here.) In the fallback sequential decode a lost frame would shift every later
number, so decoding stops at the first error. Targets not decoded are missing from the result, and
``damage`` says what happened (``load_video`` logs it as one warning).

The decoder uses exactly ``decoder_threads`` threads (frame threading above one). Input FFmpeg
cannot open raises ``InvalidMediaError``.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, replace
from typing import Any, Iterator

import numpy as np

from ..errors import InvalidMediaError
from .backend import FrameSink, StreamInfo, register
from .source import MediaSource

log = logging.getLogger(__name__)

_H264_SLICE_TYPES = frozenset({1, 2, 3, 4, 5})  # non-IDR slice, data partitions A/B/C, IDR slice
_HEVC_SUBLAYER_NONREF = frozenset({0, 2, 4, 6, 8, 10, 12, 14})  # TRAIL_N ... RSV_VCL_N14


@dataclass
class DecodeStats:
    """What the last ``decode`` did: tests and benchmarks read it from ``video.stats``."""

    packets_sent: int = 0  # packets given to the decoder
    packets_skipped: int = 0  # disposable non-target packets inside decoded runs, never sent
    gops_skipped: int = 0  # GOPs from which no packet was sent
    seeks: int = 0
    drains: int = 0  # decoder drained and flushed (between runs and at the end)
    frames_converted: int = 0  # frames converted to RGB (= unique targets decoded)
    decode_errors: int = 0  # packets the decoder rejected
    frames_damaged: int = 0  # frames output after a decode error that were not taken (see _intact)


# --- bitstream inspection -------------------------------------------------------------------


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
    i = 0
    while i + length_size < end:
        size = int.from_bytes(buf[i : i + length_size], "big")
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


# --- the opened video ------------------------------------------------------------------------


class _PyAVVideo:
    def __init__(self, source: MediaSource, decoder_threads: int) -> None:
        import av

        self._av = av
        self._source = source
        self._threads = int(decoder_threads)
        self._container: Any = None
        self.stats = DecodeStats()
        self._notes: list[str] = []  # what was wrong with the input, for ``damage``
        self._run_notes: list[str] = []  # ... and with the last decode
        try:
            self._open_container()
            self._index()
        except BaseException:
            self.close()
            raise

    def _open_container(self) -> None:
        av, src = self._av, self._source
        try:
            target = src.path if src.path is not None else io.BytesIO(src.data)  # type: ignore[arg-type]
            # "replace": damaged metadata (e.g. a non-UTF-8 brand) must not fail with UnicodeDecodeError
            self._container = av.open(target, mode="r", metadata_errors="replace")
        except av.FFmpegError as e:
            why = getattr(e, "strerror", None) or str(e)
            raise InvalidMediaError(f"{src.label}: not a decodable video (FFmpeg could not open it: {why})") from None
        fmt = self._container.format.name
        if fmt == "image2" or fmt.endswith("_pipe"):  # png_pipe, jpeg_pipe, ...: a still image
            raise InvalidMediaError(f"{src.label}: an image ({fmt}), not a video")
        if not self._container.streams.video:
            kinds = sorted({s.type for s in self._container.streams}) or ["none"]
            raise InvalidMediaError(f"{src.label}: no video stream (streams: {', '.join(kinds)})")
        self._stream = self._container.streams.video[0]
        self._cc = self._stream.codec_context
        if self._cc is None:
            raise InvalidMediaError(f"{src.label}: this FFmpeg build has no decoder for the video stream")
        # Bounded decoder threads (0 would mean one per core).
        self._cc.thread_count = self._threads
        self._cc.thread_type = "FRAME" if self._threads > 1 else "NONE"
        self._it: Iterator[Any] | None = None  # demux iterator; None: position unknown (reopened/at EOF)
        self._pending: tuple[int, Any] | None = None  # a packet read past the end of a run
        self._pos = 0  # ordinal of the next packet the iterator yields
        self._dirty = False  # packets sent since the last drain

    def _index(self) -> None:
        av, stream, cc, label = self._av, self._stream, self._cc, self._source.label
        codec = cc.codec.name
        nal_size = nal_length_size(cc.extradata, codec) if codec in ("h264", "hevc") else None
        pts: list[int | None] = []
        dts: list[int | None] = []
        key: list[bool] = []
        discard: list[bool] = []
        disp: list[bool] = []
        tids: list[int] = []
        try:
            for pkt in self._container.demux(stream):
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
            self._notes.append(f"the container ends early, after {len(pts)} packets ({e})")
            truncated = True
        else:
            truncated = 0 < len(pts) < (stream.frames or 0)
            if truncated:
                self._notes.append(f"{len(pts)} of the {stream.frames} packets the container declares are present")
        if truncated and pts and None not in pts and dts[-1] is not None:
            # Lost packets have pts >= dts > dts[-1]: a frame presented later could be numbered wrong.
            horizon = dts[-1]
            discard = [d or p > horizon for d, p in zip(discard, pts)]  # type: ignore[operator]
        if tids:  # HEVC: only the highest temporal sub-layer present is never referenced
            top = max(tids)
            disp = [d and t == top for d, t in zip(disp, tids)]
        self._it = None  # the demuxer is at EOF now

        n = len(pts)
        self._pts, self._dts, self._disp = pts, dts, disp
        self._sparse = n > 0 and None not in pts and len(set(pts)) == n
        if self._sparse:
            order = sorted((p, q) for q, p in enumerate(pts) if not discard[q])  # type: ignore[type-var]
            self._frame_pkt = [q for _, q in order]
            self._ordinal = {p: q for q, p in enumerate(pts)}
        else:
            self._frame_pkt = [q for q in range(n) if not discard[q]]
            self._ordinal = {}
        total = len(self._frame_pkt)

        # GOPs in decode order: gop_start[q] = ordinal of the keyframe opening q's GOP.
        self._gop_start = [0] * n
        self._gop_id = [0] * n
        start, gid = 0, 0
        for q in range(n):
            if key[q] and q > 0:
                start, gid = q, gid + 1
            self._gop_start[q], self._gop_id[q] = start, gid
        self._num_gops = gid + 1 if n else 0
        # nondisp_before[q]: packets before q that are not disposable (to join runs over gaps).
        self._nondisp_before = np.concatenate(([0], np.cumsum(~np.asarray(disp, dtype=bool)))).tolist()

        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        width, height = int(cc.width), int(cc.height)
        if total <= 0 or fps <= 0 or width <= 0 or height <= 0:
            raise InvalidMediaError(
                f"{label}: no usable video stream (frames={total}, fps={fps:g}, size={width}x{height})"
            )
        self.info = StreamInfo(total_num_frames=total, fps=fps, width=width, height=height, codec=codec)
        self._coded_size = (width, height)
        self._turns: int | None = None  # display rotation in counter-clockwise quarter turns, once known

    # --- decoding -------------------------------------------------------------------------

    def decode(self, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import cv2
        from av.video.reformatter import VideoReformatter

        self._cv2 = cv2
        self._sws = VideoReformatter()  # keeps its SwsContext across frames
        self.stats = DecodeStats()
        self._run_notes: list[str] = []
        self._tainted = False  # a reference packet failed to decode: output may be concealed garbage
        self._clean_from: int | None = None  # pts of the first keyframe sent since then
        self._done: set[int] = set()  # unique targets already in their slot
        sink = FrameSink(indices, self.info.height, self.info.width)
        targets = [int(t) for t in sink.targets if 0 <= t < self.info.total_num_frames]
        if targets:
            if self._sparse:
                self._decode_sparse(sink, targets)
            else:
                self._decode_linear(sink, targets)
        return sink.result()

    def _decode_sparse(self, sink: FrameSink, targets: list[int]) -> None:
        pts, disp, gop_start = self._pts, self._disp, self._gop_start
        slot_of: dict[int, int] = {}  # pts -> k of the unique target
        target_pkts: set[int] = set()
        for k, t in enumerate(sink.targets.tolist()):
            if 0 <= t < len(self._frame_pkt):
                q = self._frame_pkt[t]
                slot_of[pts[q]] = k  # type: ignore[index]
                target_pkts.add(q)

        ranges = []
        for q in target_pkts:
            s = gop_start[q]
            if s > 0 and pts[q] < pts[s]:  # type: ignore[operator]  # leading picture of an open GOP
                s = gop_start[s - 1]
            ranges.append((s, q))
        runs: list[list[int]] = []
        for s, e in sorted(ranges):
            if runs and (s <= runs[-1][1] + 1 or self._nondisp_before[s] == self._nondisp_before[runs[-1][1] + 1]):
                runs[-1][1] = max(runs[-1][1], e)
            else:
                runs.append([s, e])

        gops_used: set[int] = set()
        for s, e in runs:
            self._drain(sink, slot_of)
            for q, pkt in self._read(s, e):
                if q in target_pkts or not disp[q]:
                    gops_used.add(self._gop_id[q])
                    for frame in self._send(pkt, disposable=disp[q]):
                        self._take(frame, slot_of.get(frame.pts), sink)
                else:
                    self.stats.packets_skipped += 1
        self._drain(sink, slot_of)
        self.stats.gops_skipped = self._num_gops - len(gops_used)

    def _decode_linear(self, sink: FrameSink, targets: list[int]) -> None:
        """No usable pts: decode from the start, numbering frames in output order."""
        slot_of = {t: k for k, t in enumerate(sink.targets.tolist())}
        last, n = targets[-1], 0
        self._reopen()
        try:
            for pkt in self._container.demux(self._stream):
                if not pkt.size:
                    continue
                for frame in self._send(pkt):
                    self._take(frame, slot_of.get(n), sink)
                    n += 1
                if self.stats.decode_errors:
                    break  # a lost frame would shift every later number: keep the certain prefix
                if n > last:
                    break
        except self._av.FFmpegError as e:
            log.debug("%s: demuxing stopped early: %s", self._source.label, e)
            self._run_notes.append(f"demuxing stopped early ({e})")
        frames = [] if self.stats.decode_errors else self._drain_frames()
        for frame in frames:
            self._take(frame, slot_of.get(n), sink)
            n += 1
        self._it = None

    def _send(self, pkt: Any, *, disposable: bool = False) -> list[Any]:
        self._dirty = True
        self.stats.packets_sent += 1
        if self._tainted and self._clean_from is None and pkt.is_keyframe:
            self._clean_from = pkt.pts
        try:
            return self._cc.decode(pkt)
        except self._av.FFmpegError as e:  # a damaged packet: its frame is lost
            self.stats.decode_errors += 1
            log.debug("%s: decode error: %s", self._source.label, e)
            if not disposable:  # pictures referencing it would be concealed guesses
                self._tainted, self._clean_from = True, None
            return []

    def _intact(self, frame: Any) -> bool:
        """False for frames output after a reference packet failed to decode, until the first
        frame presented at or after the next keyframe (FFmpeg conceals the damage in between)."""
        if not self._tainted:
            return True
        if self._clean_from is not None and frame.pts is not None and frame.pts >= self._clean_from:
            self._tainted = False
            return True
        self.stats.frames_damaged += 1
        return False

    def _drain_frames(self) -> list[Any]:
        """Flush the decoder's delayed frames out and reset it for a new position."""
        if not self._dirty:
            return []
        self.stats.drains += 1
        self._dirty = False
        try:
            frames = self._cc.decode(None)
        except self._av.FFmpegError as e:
            log.debug("%s: decode error while draining: %s", self._source.label, e)
            frames = []
        self._cc.flush_buffers()
        return frames

    def _drain(self, sink: FrameSink, slot_of: dict[int, int]) -> None:
        for frame in self._drain_frames():
            self._take(frame, slot_of.get(frame.pts), sink)
        self._tainted = False  # the next run starts from a keyframe on a flushed decoder

    def _take(self, frame: Any, k: int | None, sink: FrameSink) -> None:
        """Convert a decoded target frame into its slot, exactly as OpenCV would."""
        if not self._intact(frame) or k is None or k in self._done or (frame.width, frame.height) != self._coded_size:
            return
        if self._turns is None:
            self._learn_rotation(frame, sink)
        cv2 = self._cv2
        bgr = self._sws.reformat(frame, format="bgr24", interpolation="BICUBIC", threads=self._threads)
        if self._turns:
            rgb = cv2.cvtColor(bgr.to_ndarray(), cv2.COLOR_BGR2RGB)
            code = (cv2.ROTATE_90_COUNTERCLOCKWISE, cv2.ROTATE_180, cv2.ROTATE_90_CLOCKWISE)[self._turns - 1]
            cv2.rotate(rgb, code, dst=sink.slot(k))
        else:
            cv2.cvtColor(bgr.to_ndarray(), cv2.COLOR_BGR2RGB, dst=sink.slot(k))
        sink.filled(k)
        self._done.add(k)
        self.stats.frames_converted += 1

    def _learn_rotation(self, frame: Any, sink: FrameSink) -> None:
        """Read the display rotation off the first target frame (before any slot is written)."""
        degrees = int(getattr(frame, "rotation", 0) or 0)
        self._turns = (degrees // 90) % 4 if degrees % 90 == 0 else 0  # OpenCV ignores other angles
        if self._turns % 2:
            w, h = self._coded_size
            self.info = replace(self.info, width=h, height=w)
            sink.frames = sink.frames.reshape(len(sink.frames), w, h, 3)  # same buffer, still empty

    # --- demuxing -------------------------------------------------------------------------

    def _read(self, start: int, end: int) -> Iterator[tuple[int, Any]]:
        """(ordinal, packet) for ordinals start..end, seeking when start lies in a later GOP."""
        nxt = self._pending[0] if self._pending else self._pos
        if self._it is None or not (nxt <= start and self._gop_id[start] == self._gop_id[min(nxt, len(self._pts) - 1)]):
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
                q = self._ordinal.get(pkt.pts) if pkt.size else None
                if q is not None:
                    self._pos = q + 1
                    return q, pkt
        except self._av.FFmpegError as e:
            log.debug("%s: demuxing stopped early: %s", self._source.label, e)
            self._run_notes.append(f"demuxing stopped early ({e})")
        self._it, self._pos = None, len(self._pts)
        return None

    def _seek(self, start: int) -> None:
        """Position the demuxer at or before packet ``start`` (a keyframe): seek by its pts, then
        its dts (lands earlier on some containers), and reopen the container as a last resort."""
        self._pending = None
        stream = self._stream
        for ts in dict.fromkeys((self._pts[start], self._dts[start])):
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

    def _reopen(self) -> None:
        self._container.close()
        self._container = None
        self._open_container()

    @property
    def damage(self) -> str | None:
        """What was wrong with the input (truncation, decode errors, skipped frames), or None."""
        notes = self._notes + self._run_notes
        if self.stats.decode_errors:
            notes.append(f"{self.stats.decode_errors} packet(s) failed to decode")
        if self.stats.frames_damaged:
            notes.append(f"{self.stats.frames_damaged} frame(s) decoded from damaged references were skipped")
        return "; ".join(notes) or None

    def close(self) -> None:
        container, self._container = self._container, None
        self._it = self._pending = None
        if container is not None:
            container.close()


@register("pyav")
class PyAVBackend:
    name = "pyav"
    extra: str | None = "pyav"
    priority = 20  # above opencv: exact and decodes less
    auto = True

    def unavailable_reason(self) -> str | None:
        try:
            import av  # noqa: F401
        except ImportError as e:
            return f"cannot import av: {e}"
        return None

    def open(self, source: MediaSource, *, decoder_threads: int) -> _PyAVVideo:
        return _PyAVVideo(source, decoder_threads)
