"""``pyav`` backend: exact sparse decode with PyAV (FFmpeg), decoding only what the targets need.

Three pieces: ``_bitstream`` (which packets are disposable: pure NAL parsing), ``_packet_index``
(``scan``: one packets-only demux into a frozen ``PacketIndex``; ``plan_runs``: the pure choice of
packet runs for a set of targets; ``PacketReader``: reading a run, seeking) and, here, the decoder
loop over those runs.

``decode(indices)`` sends the decoder the minimum set of packets:

1. the runs ``plan_runs`` picks (each target's GOP up to its packet; open-GOP leading pictures
   also need the previous GOP; runs separated only by disposable packets are joined);
2. between runs the decoder is drained and flushed, and the demuxer seeks to the next run's
   keyframe when that lies in a later GOP than the current position (else it reads on); a seek
   goes by the keyframe's pts, then its dts, and must land at or before it (packets before it
   are dropped), else the container is reopened and read from the start;
3. inside a run, disposable packets that are not targets are never sent;
4. decoded frames are matched to targets by pts, and only targets are converted to RGB, into
   their output slot, exactly as OpenCV does it (swscale bicubic to bgr24, then BGR->RGB; resized
   on decode, the bgr24 frame is resized and the result swapped: the same bytes, see ``_take``).

Streams whose packets lack unique pts fall back to one sequential decode that numbers frames in
output order, as OpenCV does.

Rotation: like OpenCV (``CAP_PROP_ORIENTATION_AUTO``, on by default, so TensorRT-LLM's stock loader
gets it too), a display matrix of a multiple of 90 degrees is applied: frames come out upright as a
player shows them. PyAV exposes the matrix only on decoded frames, so ``info`` has the coded size
until the first target is decoded, and the rotated size from then on (the pixel count is the same,
so limits and reserved bytes are unaffected); ``Decoded.info`` has the size of its frames.

Damage in the middle: a packet the decoder rejects loses its frame. If it was a reference picture,
every frame output after it is skipped until the first frame presented at or after the next
keyframe: FFmpeg would return concealed guesses for them. (Damage the decoder does not detect
cannot be seen here.) In the fallback sequential decode a lost frame would shift every later
number, so decoding stops at the first error. Targets not decoded are missing from the result, and
``Decoded.damage`` says what happened (``load_video`` logs it as one warning).

Each decoder context uses exactly ``decoder_threads`` threads (frame threading above one), and
every decode first holds that many slots of the process-wide decode-thread allowance (one per
core). Independent runs are spread over extra decoder contexts while slots are idle, bit-identical
to the sequential decode (``_parallel``: the allowance, the contexts, why it is exact;
``parallel_runs`` opts out). Input FFmpeg cannot open raises ``InvalidMediaError``.
"""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass, field, fields, replace
from typing import Any, Iterator

import numpy as np

from ..errors import InvalidMediaError
from . import _parallel
from ._packet_index import PacketIndex, PacketReader, RunPlan, plan_runs, scan
from .backend import Allocator, Decoded, FrameSink, StreamInfo
from .resize import ResizingSink, make_sink
from .source import MediaSource

log = logging.getLogger(__name__)


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
    contexts: int = 0  # decoder contexts the runs were decoded on (1: sequential)
    sent: list[int] = field(default_factory=list, repr=False)  # ordinals of the packets sent, in order

    def add(self, run: DecodeStats) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(run, f.name))


# --- the opened video ------------------------------------------------------------------------


class _PyAVVideo(PacketReader):
    """One source opened with PyAV: ``index`` (its ``PacketIndex``), ``stats`` (of the last decode).

    ``parallel_runs``: most decoder contexts one decode uses (see ``_parallel``). With ``root``,
    an extra decoder context of that video: its own container, ``root``'s index and geometry.
    """

    def __init__(
        self, source: MediaSource, decoder_threads: int, *, parallel_runs: int | None = None,
        root: _PyAVVideo | None = None,
    ) -> None:  # fmt: skip
        import av

        self._av = av
        self._source = source
        self._threads = int(decoder_threads)
        self.parallel_runs = _parallel.resolve_parallel_runs(parallel_runs)
        self._container: Any = None
        self.stats = DecodeStats()
        self._notes: list[str] = []  # what was wrong with the input, for ``damage``
        self._run_notes: list[str] = []  # ... and with the last decode
        self._root = root or self
        self._lock = threading.Lock()  # learning the rotation (contexts share the sink)
        try:
            self._open_container()
            if root is None:
                self._index()
            else:
                self.index, self.info, self._turns = root.index, root.info, root._turns
                self._coded_size = root._coded_size
        except BaseException:
            self.close()
            raise

    def _context(self) -> _PyAVVideo:
        """An extra decoder context for a parallel decode (closed by ``_parallel``)."""
        ctx = _PyAVVideo(self._source, self._threads, root=self)
        ctx._start()
        return ctx

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
        stream, cc, label = self._stream, self._cc, self._source.label
        self.index: PacketIndex = scan(self._container, stream, label=label)
        self._notes.extend(self.index.notes)
        self._it = None  # the demuxer is at EOF now
        total = self.index.total_num_frames
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        width, height = int(cc.width), int(cc.height)
        if total <= 0 or fps <= 0 or width <= 0 or height <= 0:
            raise InvalidMediaError(
                f"{label}: no usable video stream (frames={total}, fps={fps:g}, size={width}x{height})"
            )
        self.info = StreamInfo(total_num_frames=total, fps=fps, width=width, height=height)
        self._coded_size = (width, height)
        self._turns: int | None = None  # display rotation in counter-clockwise quarter turns, once known

    @property
    def decoder_threads(self) -> int:
        """Threads the FFmpeg decoder was configured with."""
        return int(self._cc.thread_count)

    # --- decoding -------------------------------------------------------------------------

    resize_on_decode = True  # ``decode(..., resize=)``: see ``video.resize``

    def decode(self, indices: np.ndarray, allocator: Allocator, resize: Any = None) -> Decoded:
        sink = make_sink(indices, self.info, allocator, resize)
        self._start()
        targets = [int(t) for t in sink.targets if 0 <= t < self.info.total_num_frames]
        if targets:
            with _parallel.allowance().held(self._threads):  # waits while every core is decoding
                if self.index.sparse:
                    self._decode_sparse(sink)
                else:
                    self.stats.contexts = 1
                    self._decode_linear(sink, targets)
        return sink.result(self.info, self._damage())

    def _start(self) -> None:
        """Reset this context for a new decode."""
        import cv2
        from av.video.reformatter import VideoReformatter

        self._cv2 = cv2
        self._sws = VideoReformatter()  # keeps its SwsContext across frames
        self.stats = DecodeStats()
        self._run_notes = []
        self._tainted = False  # a reference packet failed to decode: output may be concealed garbage
        self._clean_from: int | None = None  # pts of the first keyframe sent since then
        self._done: set[int] = set()  # unique targets already in their slot

    def _decode_sparse(self, sink: FrameSink) -> None:
        """The runs of the plan, on this and (when cores are idle) extra contexts, merged in run order."""
        plan = plan_runs(self.index, sink.targets.tolist())
        runs, contexts = _parallel.decode_runs(
            len(plan.runs), lambda ctx, i: ctx._decode_run(i, plan, sink), self, self._context,
            share=self._threads, limit=self.parallel_runs, packets=sum(e - s + 1 for s, e in plan.runs),
        )  # fmt: skip
        total, notes, gops_used = DecodeStats(), [], set()
        for stats, run_notes, gops in runs:
            total.add(stats)
            notes += run_notes
            gops_used |= gops
        total.gops_skipped, total.contexts = self.index.num_gops - len(gops_used), contexts
        self.stats, self._run_notes = total, notes

    def _decode_run(self, i: int, plan: RunPlan, sink: FrameSink) -> tuple[DecodeStats, list[str], set[int]]:
        """Run ``i``: from its keyframe to a drained decoder; (its stats, notes, GOPs used)."""
        self._drain_frames()  # dirty only after a failed decode: those frames are no one's
        self.stats, self._run_notes, self._tainted = DecodeStats(), [], False
        index, (s, e) = self.index, plan.runs[i]
        disp, gops_used = index.disposable, set()
        for q, pkt in self._read(s, e):
            if q in plan.target_packets or not disp[q]:
                gops_used.add(index.gop_id[q])
                self._feed(q, pkt, disp[q], plan.slot_of, sink)
            else:
                self.stats.packets_skipped += 1
        self._drain(sink, plan.slot_of)
        return self.stats, self._run_notes, gops_used

    def _feed(self, q: int, pkt: Any, disposable: bool, slot_of: dict[int, int], sink: FrameSink) -> None:
        """Send one packet, take its frames: none outlives this call (one still referenced while the next
        packet decodes pins a picture more in the decoder's pool: ~4 MiB at 1080p, planes and tables)."""
        for frame in self._send(q, pkt, disposable=disposable):
            self._take(frame, slot_of.get(frame.pts), sink)

    def _decode_linear(self, sink: FrameSink, targets: list[int]) -> None:
        """No usable pts: decode from the start, numbering frames in output order."""
        slot_of = {t: k for k, t in enumerate(sink.targets.tolist())}
        last, n, q = targets[-1], 0, 0
        self._reopen()
        try:
            for pkt in self._container.demux(self._stream):
                if not pkt.size:
                    continue
                q += 1
                for frame in self._send(q - 1, pkt):
                    self._take(frame, slot_of.get(n), sink)
                    n += 1
                frame = None  # none outlives its packet (see ``_feed``)
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

    def _send(self, q: int, pkt: Any, *, disposable: bool = False) -> list[Any]:
        self._dirty = True
        self.stats.packets_sent += 1
        self.stats.sent.append(q)
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
        """Convert a decoded target frame into its slot, exactly as OpenCV would.

        Resized on decode (rows unpadded), the bgr24 frame is resized into the output slot, then swapped
        to RGB: the bytes of the sink's way (RGB into its full-size scratch, resized), as the processor's
        resize filters each channel on its own (tests compare), but no full-size RGB copy: one 6 MiB frame
        per decoder context at 1080p, not two (12 MiB of a 2-context decode's ~75 MiB peak, bench_request_1080p).
        """
        if not self._intact(frame) or k is None or k in self._done or (frame.width, frame.height) != self._coded_size:
            return
        if self._turns is None:
            self._turns = self._root._learn_rotation(frame, sink)
        cv2 = self._cv2
        bgr = self._sws.reformat(frame, format="bgr24", interpolation="BICUBIC", threads=self._threads).to_ndarray()
        if isinstance(sink, ResizingSink) and bgr.flags.c_contiguous and not self._turns:
            sink.filled_from(k, bgr, lambda out: cv2.cvtColor(out, cv2.COLOR_BGR2RGB, dst=out))  # no full-size scratch
        else:
            if self._turns:  # (``bgr`` is a view of the frame's buffer, which it keeps alive)
                code = (cv2.ROTATE_90_COUNTERCLOCKWISE, cv2.ROTATE_180, cv2.ROTATE_90_CLOCKWISE)[self._turns - 1]
                cv2.rotate(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), code, dst=sink.slot(k))
            else:
                cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=sink.slot(k))
            del bgr  # not needed in ``filled`` (where a resizing sink resizes its scratch)
            sink.filled(k)
        self._done.add(k)
        self.stats.frames_converted += 1

    def _learn_rotation(self, frame: Any, sink: FrameSink) -> int:
        """Read the display rotation off the first target frame (before any slot is written)."""
        with self._lock:
            if self._turns is None:
                degrees = int(getattr(frame, "rotation", 0) or 0)
                turns = (degrees // 90) % 4 if degrees % 90 == 0 else 0  # OpenCV ignores other angles
                try:
                    if turns % 2:
                        w, h = self._coded_size
                        self.info = replace(self.info, width=h, height=w)
                        sink.transpose_size()  # same buffer, still empty (a resizing sink may refuse)
                finally:  # last: other contexts read it without the lock (set even when refused)
                    self._turns = turns
            return self._turns

    # --- demuxing (``PacketReader``: _read, _next_packet, _seek) ---------------------------

    def _reopen(self) -> None:
        self._container.close()
        self._container = None
        self._open_container()

    def _damage(self) -> str | None:
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


class PyAVBackend:
    name = ""  # set by the registry (its table names the backend)
    extra: str | None = "pyav"
    priority = 20  # above opencv: exact and decodes less
    auto = True
    modules = ("av",)

    def unavailable_reason(self) -> str | None:
        try:
            import av  # noqa: F401
        except ImportError as e:
            return f"cannot import av: {e}"
        return None

    def open(self, source: MediaSource, *, decoder_threads: int, parallel_runs: int | None = None) -> _PyAVVideo:
        """``parallel_runs``: most decoder contexts one decode spreads its GOP runs over (1: sequential;
        default ``TRTLLM_MMFAST_PARALLEL_RUNS``, else automatic: as many as runs and idle cores allow)."""
        return _PyAVVideo(source, decoder_threads, parallel_runs=parallel_runs)


BACKEND = PyAVBackend()
