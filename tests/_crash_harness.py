"""Decode untrusted inputs in a child process, so a crash or a hang fails a test instead of pytest.

Child side (``python _crash_harness.py``): reads one JSON request per stdin line,
``{"path": ..., "backend": ..., "as_bytes": bool, "kwargs": {...}, "save": path|null}``,
calls ``load_video`` and writes one JSON line back: either
``{"ok": true, "shape", "dtype", "contiguous", "indices", "total", "width", "height", "warnings"}``
(frames saved as .npy to ``save`` when given; ``warnings``: what trtllm_mmfast logged at WARNING
or above) or ``{"ok": false, "error": class name, "mmfast": bool, "message"}``.

Parent side: ``Worker`` keeps one child alive across many requests (imports are paid once),
and turns a dead child into ``WorkerCrashed`` and a silent one into ``WorkerHung`` (it is killed).
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import tempfile
import time
from typing import Any

HARNESS = os.path.abspath(__file__)


class WorkerCrashed(AssertionError):
    """The child died while decoding (segfault, abort, ...)."""


class WorkerHung(AssertionError):
    """The child gave no answer within the timeout."""


class Worker:
    """One long-lived decoding child; ``request`` sends one input and waits for its answer."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr: Any = None
        self._buf = b""

    def _start(self) -> subprocess.Popen[bytes]:
        self._stderr = tempfile.TemporaryFile()  # FFmpeg is chatty on bad input: never a full pipe
        env = dict(os.environ, PYTHONFAULTHANDLER="1")
        self._proc = subprocess.Popen(
            [sys.executable, HARNESS], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env
        )
        self._buf = b""
        return self._proc

    def _stderr_tail(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-3000:]

    def request(self, req: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        proc = self._proc if self._proc is not None and self._proc.poll() is None else self._start()
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(req).encode() + b"\n")
            proc.stdin.flush()
        except BrokenPipeError:
            pass  # reported below as a crash
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            while b"\n" not in self._buf:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    self.close()
                    raise WorkerHung(f"no answer within {timeout:g}s for {req}")
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    rc = proc.wait()
                    tail = self._stderr_tail()
                    self.close()
                    raise WorkerCrashed(f"decoder process died (exit {rc}) on {req}\n{tail}")
                self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            for f in (self._proc.stdin, self._proc.stdout):
                if f is not None:
                    f.close()
            self._proc = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None


_WARNINGS: list[str] = []


def _handle(req: dict[str, Any]) -> dict[str, Any]:
    import numpy as np

    from trtllm_mmfast import MMFastError, load_video

    _WARNINGS.clear()

    src: Any = req["path"]
    if req.get("as_bytes", True):
        with open(src, "rb") as f:
            src = f.read()
    try:
        v = load_video(src, backend=req["backend"], **req.get("kwargs", {}))
    except Exception as e:  # the parent decides what is allowed
        return {"ok": False, "error": type(e).__name__, "mmfast": isinstance(e, MMFastError), "message": str(e)}
    if req.get("save"):
        np.save(req["save"], v.frames)
    m = v.metadata
    return {
        "ok": True,
        "shape": list(v.frames.shape),
        "dtype": str(v.frames.dtype),
        "contiguous": bool(v.frames.flags.c_contiguous),
        "indices": list(m.frames_indices),
        "total": m.total_num_frames,
        "width": m.width,
        "height": m.height,
        "warnings": list(_WARNINGS),
    }


def main() -> None:
    import logging

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            _WARNINGS.append(record.getMessage())

    ours = logging.getLogger("trtllm_mmfast")  # collected for the answer, never printed
    ours.addHandler(Collect(logging.WARNING))
    ours.propagate = False
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(_handle(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
