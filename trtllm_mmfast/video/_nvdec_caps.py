"""What NVDEC can decode, and the per-request decision to send a stream to the CPU backend instead.

``probe`` reads a stream's codec facts with PyAV (container headers and the first frame only,
for its display rotation); ``fallback_reason`` is the pure decision: None when NVDEC may decode
it, else why not (the reason is counted and logged once per kind). The default table
(``DEFAULT_CAPS``) follows NVIDIA's NVDEC support matrix for data-centre GPUs up to Hopper,
conservatively: H.264 8-bit 4:2:0; HEVC, AV1 and VP9 4:2:0 at 8 bits; 10-bit and 4:4:4 (which
NVDEC decodes for HEVC/AV1/VP9, but whose colour conversion differs from swscale's dithering)
only when ``high_bit_depth`` / ``yuv444`` are switched on. 4:2:2 (Blackwell only), other codecs,
sizes outside the decoder's limits, rotated streams (NVDEC ignores the display matrix), streams
whose frames cannot be numbered by pts, and streams the CPU probe found damaged go to the CPU.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from fractions import Fraction

from .source import MediaSource

__all__ = ["DEFAULT_CAPS", "CodecFacts", "NvdecCaps", "fallback_reason", "probe"]


@dataclass(frozen=True)
class CodecFacts:
    """A video stream's codec facts, as NVDEC's support depends on them."""

    codec: str  # FFmpeg codec name: h264, hevc, av1, vp9, ...
    profile: str | None
    pix_fmt: str  # yuv420p, yuv420p10le, yuv444p, ...
    bit_depth: int
    chroma: str  # "420", "422", "444", "400" or "?"
    width: int
    height: int
    rotation: int = 0  # display rotation in degrees (a container display matrix)
    time_base: Fraction | None = field(default=None, compare=False)  # of the stream's pts


# codec -> (max width, max height, min width, min height, bit depths it decodes)
_LIMITS: dict[str, tuple[int, int, int, int, tuple[int, ...]]] = {
    "h264": (4096, 4096, 48, 16, (8,)),
    "hevc": (8192, 8192, 144, 144, (8, 10, 12)),
    "av1": (8192, 8192, 128, 128, (8, 10)),
    "vp9": (8192, 8192, 128, 128, (8, 10, 12)),
}


@dataclass(frozen=True)
class NvdecCaps:
    """Which streams go to NVDEC. ``limits``: codec -> (max w, max h, min w, min h, bit depths)."""

    limits: dict[str, tuple[int, int, int, int, tuple[int, ...]]] = field(default_factory=lambda: dict(_LIMITS))
    high_bit_depth: bool = False  # decode 10/12-bit where NVDEC can (pixels differ more from the CPU's)
    yuv444: bool = False  # decode 4:4:4 HEVC where NVDEC can


DEFAULT_CAPS = NvdecCaps()

_CHROMA = {(1, 1): "420", (1, 0): "422", (0, 0): "444"}


def _chroma(name: str) -> str:
    """Chroma subsampling of pixel format ``name`` ("420", "422", "444", "400" or "?")."""
    import av

    comps = list(av.VideoFormat(name, 64, 64).components)
    if len(comps) == 1:
        return "400"
    luma, chroma = comps[0], comps[1]
    return _CHROMA.get((int(luma.width > chroma.width), int(luma.height > chroma.height)), "?")


def probe(source: MediaSource) -> CodecFacts:
    """The codec facts of ``source``'s first video stream (headers, and one decoded frame for the
    rotation). Raises what PyAV raises for input it cannot open (the CPU probe reports those)."""
    import av

    target = source.path if source.path is not None else io.BytesIO(source.data)  # type: ignore[arg-type]
    with av.open(target, mode="r", metadata_errors="replace") as container:
        stream = container.streams.video[0]
        cc = stream.codec_context
        fmt = cc.format
        rotation = 0
        stream.thread_type = "NONE"
        for frame in container.decode(stream):
            rotation = int(getattr(frame, "rotation", 0) or 0)
            break
        return CodecFacts(
            codec=cc.name, profile=cc.profile, pix_fmt=fmt.name if fmt else "?",
            bit_depth=max((c.bits for c in fmt.components), default=8) if fmt else 8,
            chroma=_chroma(fmt.name) if fmt else "?", width=int(cc.width), height=int(cc.height), rotation=rotation,
            time_base=Fraction(stream.time_base) if stream.time_base else None,
        )  # fmt: skip


def fallback_reason(facts: CodecFacts, caps: NvdecCaps = DEFAULT_CAPS) -> str | None:
    """None when NVDEC may decode a stream with ``facts``, else the fallback kind and why
    (``"<kind>: <detail>"``; kinds: codec, profile, bit_depth, chroma, size, rotation)."""
    limits = caps.limits.get(facts.codec)
    if limits is None:
        return f"codec: NVDEC is not used for {facts.codec} (decodes {', '.join(sorted(caps.limits))})"
    max_w, max_h, min_w, min_h, depths = limits
    if facts.codec == "h264" and facts.profile and any(p in facts.profile for p in ("4:2:2", "4:4:4", "High 10")):
        return f"profile: NVDEC does not decode H.264 {facts.profile}"
    if facts.bit_depth not in depths:
        return f"bit_depth: NVDEC does not decode {facts.bit_depth}-bit {facts.codec} ({facts.pix_fmt})"
    if facts.bit_depth > 8 and not caps.high_bit_depth:
        return f"bit_depth: {facts.bit_depth}-bit ({facts.pix_fmt}) goes to the CPU (NvdecCaps.high_bit_depth is off)"
    if facts.chroma not in ("420", "444") or (facts.chroma == "444" and not (caps.yuv444 and facts.codec == "hevc")):
        return f"chroma: {facts.pix_fmt} ({facts.chroma}) goes to the CPU for {facts.codec}"
    w, h = facts.width, facts.height
    if not (min_w <= w <= max_w and min_h <= h <= max_h):
        return f"size: {w}x{h} is outside NVDEC's {facts.codec} range {min_w}x{min_h}..{max_w}x{max_h}"
    if w % 2 or h % 2:
        return f"size: odd frame size {w}x{h} (the CPU path's chroma upsampling is the reference there)"
    if facts.rotation % 360:
        return f"rotation: the stream is displayed rotated by {facts.rotation} degrees (NVDEC ignores the display matrix)"
    return None
