"""A new backend is one module in the registry's table: written to tmp_path and registered at
test time, it is listed by ``trtllm-mmfast info`` and collected and run by the generic suites,
without editing any other file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from trtllm_mmfast.cli import main
from trtllm_mmfast.video import load_video, registry

pytest.importorskip("av")

TESTS = Path(__file__).resolve().parent
GENERIC_SUITES = ["test_backends.py", "test_sources.py", "test_robustness.py", "test_fuzz.py"]

# A throwaway backend: one plain sequential PyAV decode, colour converted as OpenCV does it.
# It handles neither display rotation nor damaged input the way the real backends do, so the
# suites' rotation / damage / truncation tests are collected for it but not run below.
TINYAV = '''
"""tinyav: a throwaway full-decode PyAV backend (tests/test_backend_plugin.py)."""
import io

from trtllm_mmfast.errors import InvalidMediaError
from trtllm_mmfast.video.backend import FrameSink, StreamInfo


class _Video:
    def __init__(self, source):
        import av

        self._av, self._label = av, source.label
        self._target = source.path if source.path is not None else source.data
        self._container = self._open()
        try:
            stream = self._container.streams.video[0]
            total = sum(1 for p in self._container.demux(stream) if p.size and not p.is_discard)
            rate = stream.average_rate
            cc = stream.codec_context
            if cc is None:  # this FFmpeg has no decoder for it
                raise IndexError("no decoder for the video stream")
            self.info = StreamInfo(total, float(rate or 0), int(cc.width), int(cc.height))
        except (av.FFmpegError, IndexError) as e:
            self.close()
            raise InvalidMediaError(f"{source.label}: not a decodable video ({e})") from None
        if min(self.info.total_num_frames, self.info.fps, self.info.width, self.info.height) <= 0:
            self.close()
            raise InvalidMediaError(f"{source.label}: no usable video stream ({self.info})")

    def _open(self):
        av = self._av
        target = self._target if isinstance(self._target, str) else io.BytesIO(self._target)
        try:
            c = av.open(target, metadata_errors="replace")
        except av.FFmpegError as e:
            raise InvalidMediaError(f"{self._label}: not a decodable video ({e})") from None
        if not c.streams.video or c.format.name == "image2" or c.format.name.endswith("_pipe"):
            c.close()
            raise InvalidMediaError(f"{self._label}: not a decodable video (no video stream)")
        return c

    def decode(self, indices, allocator):
        sink = FrameSink(indices, self.info.height, self.info.width, allocator)
        slot = {int(t): k for k, t in enumerate(sink.targets)}
        self._container.close()
        self._container, damage, n = self._open(), None, 0
        try:
            for frame in self._container.decode(video=0):
                k = slot.get(n)
                if k is not None and (frame.width, frame.height) == (self.info.width, self.info.height):
                    bgr = frame.to_ndarray(format="bgr24", interpolation="BICUBIC")
                    sink.slot(k)[...] = bgr[..., ::-1]
                    sink.filled(k)
                n += 1
                if n > sink.targets[-1]:
                    break
        except self._av.FFmpegError as e:
            damage = f"decoding stopped after {n} frames ({e})"
        return sink.result(self.info, damage)

    def close(self):
        if self._container is not None:
            self._container.close()
            self._container = None


class TinyAV:
    name = ""
    extra = None
    priority = 0
    auto = False  # never "auto"'s pick
    modules = ("av",)

    def unavailable_reason(self):
        try:
            import av  # noqa: F401
        except ImportError as e:
            return f"cannot import av: {e}"
        return None

    def open(self, source, *, decoder_threads):
        return _Video(source)


BACKEND = TinyAV()
'''


@pytest.fixture
def tinyav(tmp_path, monkeypatch):
    """``tinyav`` registered for this process and (through the environment) its children."""
    (tmp_path / "tinyav_backend.py").write_text(TINYAV)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(registry.ENV_VAR, "tinyav=tinyav_backend")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    yield tmp_path
    sys.modules.pop("tinyav_backend", None)


def test_a_registered_module_is_listed_by_info_and_decodes(tinyav, small_clip):
    assert "tinyav" in registry.names() and registry.available()["tinyav"] is None
    result = CliRunner().invoke(main, ["info"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^\s+tinyav\s+available$", result.output, re.M), result.output
    report = json.loads(CliRunner().invoke(main, ["info", "--json"]).output)
    assert report["backends"]["tinyav"] is None
    assert load_video(small_clip, backend="tinyav", num_frames=4).metadata.backend == "tinyav"
    assert registry.resolve("auto").name == "pyav"  # auto=False: never picked


def _pytest(*args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args]
    return subprocess.run(cmd, cwd=TESTS, capture_output=True, text=True, timeout=900)


def test_the_generic_suites_collect_and_run_it(tinyav):
    listed = _pytest("--collect-only", *GENERIC_SUITES)
    assert listed.returncode == 0, listed.stdout[-3000:] + listed.stderr[-3000:]
    ids = [line for line in listed.stdout.splitlines() if "tinyav" in line]
    for suite in GENERIC_SUITES:  # every generic suite parametrizes over the registry
        assert any(line.split("::")[0].endswith(suite) for line in ids), (suite, listed.stdout[-2000:])
    select = "tinyav and not rotation and not damaged and not cut_after and not faststart"
    ran = _pytest("-k", select, *GENERIC_SUITES)
    assert ran.returncode == 0, ran.stdout[-5000:] + ran.stderr[-3000:]
    passed = int(re.search(r"(\d+) passed", ran.stdout).group(1))  # type: ignore[union-attr]
    assert passed >= len(ids) // 2 and "skipped" not in ran.stdout, ran.stdout[-2000:]
