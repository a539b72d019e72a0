"""``opencv`` backend: cv2 FFmpeg decode, one sequential pass.

Bytes reach OpenCV through a temporary file in /dev/shm (memory-backed; the default
temp dir when /dev/shm is not writable) that is removed on every exit path. OpenCV's
stream-buffered backend (``cv2.VideoCapture(BytesIO, api)``, OpenCV >= 4.13) reads
straight from memory, but OpenCV 5.0's reader segfaults on some damaged inputs (found by
tests/test_fuzz.py; reproducers there), so it is opt-in: ``TRTLLM_MMFAST_OPENCV_STREAM_BUFFER=1``.
When used, the ``BytesIO`` stays referenced until the capture is released (native code
reads from it). The ``pyav`` backend (``auto``'s choice) decodes from memory safely.

One ``grab()`` per frame up to the last target (and a few past it, to notice an early end),
``retrieve()`` only at targets, BGR->RGB straight into the output array. A second ``decode``
of the same opened video reopens the capture and reads from the start again.

Damaged input: OpenCV stops at the first packet its decoder rejects (as TensorRT-LLM's stock
loader does), so the result is the frames before it. Frames are numbered in output order, so the
frames near an early stop whose numbers are uncertain are left out (``first_uncertain``).
Damage the decoder conceals without an error cannot be seen here; the ``pyav`` backend skips
the frames that depend on a rejected packet and decodes on.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
from typing import Any

import numpy as np

from ..errors import InvalidMediaError
from .backend import Allocator, Decoded, StreamInfo
from .resize import make_sink
from .source import MediaSource

log = logging.getLogger(__name__)

# In-memory decode through OpenCV's stream-buffered backend: opt-in, see the module doc.
USE_STREAM_BUFFER = os.environ.get("TRTLLM_MMFAST_OPENCV_STREAM_BUFFER", "") == "1"


def stream_backend_id(cv2: Any) -> int | None:
    """First stream-buffered videoio backend of this OpenCV, or None."""
    if not USE_STREAM_BUFFER:
        return None
    registry = getattr(cv2, "videoio_registry", None)
    get = getattr(registry, "getStreamBufferedBackends", None)
    if get is None:
        return None
    backends = list(get())
    return int(backends[0]) if backends else None


# Frames a decoder may hold back for reordering (H.264's DPB holds at most 16): the frames
# presented after a lost one all come out within this many frames of the end.
REORDER_WINDOW = 16


def first_uncertain(stamps: list[float], fps: float) -> int:
    """The first frame number that may be wrong when a stream stopped early.

    OpenCV numbers frames in output order. When the stream stops early (cut, or a decode error),
    packets lost at the stop can belong to frames presented *before* ones already output (B-frames
    decoded after their later reference), so those come out under too small a number: e.g. frame 44
    output right after frame 40 as "41". That shows as a gap in presentation times (over 1.5 frame
    steps: the smaller of the nominal and the median step) inside the last ``REORDER_WINDOW``
    frames: everything from the first gap on is uncertain. Without usable timestamps the whole
    window is.
    """
    n = len(stamps)
    diffs = np.diff(np.asarray(stamps, dtype=np.float64))
    if n < 2:
        return n
    if not np.all(diffs > 0):
        return max(0, n - REORDER_WINDOW)
    step = float(np.median(diffs))
    if fps > 0:
        step = min(step, 1000.0 / fps)
    for i in range(max(1, n - REORDER_WINDOW), n):
        if diffs[i - 1] > 1.5 * step:
            return i
    return n


def spill_dir() -> str | None:
    """Where the tempfile fallback writes: /dev/shm when writable, else the default temp dir."""
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


class _OpenCVVideo:
    def __init__(self, source: MediaSource, decoder_threads: int) -> None:
        import cv2

        self._cv2 = cv2
        self._stream: io.BytesIO | None = None  # must outlive self._cap
        self._tmp_path: str | None = None
        self._cap: Any = None
        self._params = [cv2.CAP_PROP_N_THREADS, int(decoder_threads)]
        self._target: str | None = source.path  # what VideoCapture opens (None: the stream)
        self._api: int | None = None
        self._rewind = False  # frames were grabbed: a later decode starts from a fresh capture
        try:
            if source.path is None:
                self._api = stream_backend_id(cv2)
                if self._api is not None:
                    self._stream = io.BytesIO(source.data)  # type: ignore[arg-type]
                else:
                    self._target = self._tmp_path = self._spill(source.data)  # type: ignore[arg-type]
            self._open_capture()
            if not self._cap.isOpened():
                raise InvalidMediaError(f"{source.label}: not a decodable video (OpenCV could not open it)")
            self.info = self._probe(source.label)
        except BaseException:
            self.close()
            raise

    def _open_capture(self) -> None:
        # Frames are numbered from the start of the stream: OpenCV's frame seeking is not exact,
        # so decoding a second set of indices reopens the capture rather than seeking back.
        cv2 = self._cv2
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        if self._stream is not None:
            self._stream.seek(0)
            self._cap = cv2.VideoCapture(self._stream, self._api, self._params)
        else:
            self._cap = cv2.VideoCapture(self._target, cv2.CAP_FFMPEG, self._params)

    @staticmethod
    def _spill(data: bytes) -> str:
        fd, path = tempfile.mkstemp(prefix="mmfast-", suffix=".mp4", dir=spill_dir())
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        except BaseException:
            os.unlink(path)
            raise
        return path

    def _probe(self, label: str) -> StreamInfo:
        cv2, cap = self._cv2, self._cap
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = float(cap.get(cv2.CAP_PROP_FPS))
        width = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        if total <= 0 or fps <= 0 or width <= 0 or height <= 0:
            raise InvalidMediaError(
                f"{label}: no usable video stream (frames={total}, fps={fps:g}, size={width}x{height})"
            )
        return StreamInfo(total_num_frames=total, fps=fps, width=width, height=height)

    resize_on_decode = True  # ``decode(..., resize=)``: see ``video.resize``

    def decode(self, indices: np.ndarray, allocator: Allocator, resize: Any = None) -> Decoded:
        sink = make_sink(indices, self.info, allocator, resize)
        if self._rewind:
            self._open_capture()
        self._rewind = True
        cv2, cap = self._cv2, self._cap
        targets = sink.targets
        stamps: list[float] = []  # presentation time (ms) of each grabbed frame
        taken: list[tuple[int, int]] = []  # (k, frame number) of each target written
        stop = int(targets[-1]) + REORDER_WINDOW  # look past the last target for an early end
        k, ended = 0, False
        while len(stamps) <= stop:
            if not cap.grab():
                ended = True  # end of stream, or OpenCV gave up at a decode error
                break
            pos = len(stamps)
            stamps.append(cap.get(cv2.CAP_PROP_POS_MSEC))
            if k < len(targets) and pos == targets[k]:
                ok, bgr = cap.retrieve()
                if ok and bgr is not None and bgr.shape[:2] == (self.info.height, self.info.width):
                    cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=sink.slot(k))
                    sink.filled(k)
                    taken.append((k, pos))
                k += 1
        damage = None
        if ended and len(stamps) < self.info.total_num_frames:
            bad = first_uncertain(stamps, self.info.fps)
            dropped = [k for k, pos in taken if pos >= bad]
            for k in dropped:
                sink.unfill(k)
            damage = (
                f"the stream ended after {len(stamps)} of the {self.info.total_num_frames} frames OpenCV"
                " counted (a cut file, a decode error, or a container OpenCV miscounts)"
            )
            if dropped:
                damage += (
                    f"; {len(dropped)} frame(s) just before the stop left out"
                    " (frames lost ahead of them make their numbers uncertain)"
                )
        return sink.result(self.info, damage)

    def close(self) -> None:
        cap = self._cap
        if cap is not None:
            cap.release()
            self._cap = None
        self._stream = None  # only after release: native code reads from it until then
        if self._tmp_path is not None:
            try:
                os.unlink(self._tmp_path)
            except FileNotFoundError:
                pass
            self._tmp_path = None


class OpenCVBackend:
    name = ""  # set by the registry (its table names the backend)
    extra: str | None = None  # opencv-python-headless is a core dependency
    priority = 10
    auto = True
    modules = ("cv2",)

    def unavailable_reason(self) -> str | None:
        try:
            import cv2  # noqa: F401
        except ImportError as e:
            return f"cannot import cv2: {e}"
        return None

    def open(self, source: MediaSource, *, decoder_threads: int) -> _OpenCVVideo:
        return _OpenCVVideo(source, decoder_threads)


BACKEND = OpenCVBackend()
