"""Local-path policy (allowed roots, `..` and symlink escapes, the server default) and data: URL caps."""

from __future__ import annotations

import asyncio
import base64
import os
from pathlib import Path

import numpy as np
import pytest

from trtllm_mmfast import InvalidMediaError, Limits, MediaTooLargeError, load_video
from trtllm_mmfast.video.policy import ALLOWED_ROOTS_ENV, LIBRARY_POLICY, SourcePolicy, server_policy
from trtllm_mmfast.video.source import resolve_source


@pytest.fixture
def tree(tmp_path: Path, small_clip: bytes) -> dict[str, Path]:
    """root/clip.mp4, root/sub/, outside/secret.mp4, media-evil/clip.mp4 (a prefix look-alike)."""
    root, outside, evil = tmp_path / "media", tmp_path / "outside", tmp_path / "media-evil"
    for d in (root / "sub", outside, evil):
        d.mkdir(parents=True)
    for f in (root / "clip.mp4", outside / "secret.mp4", evil / "clip.mp4"):
        f.write_bytes(small_clip)
    return {"root": root, "outside": outside, "evil": evil}


def test_allowed_root(tree, small_clip):
    policy = SourcePolicy(allowed_roots=(tree["root"],))
    want = load_video(small_clip, fps=4)
    for src in (tree["root"] / "clip.mp4", str(tree["root"] / "clip.mp4"), (tree["root"] / "clip.mp4").as_uri(),
                str(tree["root"] / "sub" / ".." / "clip.mp4")):
        got = load_video(src, fps=4, policy=policy)
        np.testing.assert_array_equal(got.frames, want.frames)


def test_dotdot_escape_refused(tree):
    policy = SourcePolicy(allowed_roots=(tree["root"],))
    escapes = [
        str(tree["root"] / "sub" / ".." / ".." / "outside" / "secret.mp4"),
        (tree["root"] / ".." / "outside" / "secret.mp4").as_uri(),
        str(tree["evil"] / "clip.mp4"),  # shares the root's name as a string prefix only
        "/etc/passwd",
    ]
    for src in escapes:
        with pytest.raises(InvalidMediaError, match="outside the allowed media roots"):
            load_video(src, policy=policy)


def test_symlink_escape_refused(tree):
    policy = SourcePolicy(allowed_roots=(tree["root"],))
    (tree["root"] / "link.mp4").symlink_to(tree["outside"] / "secret.mp4")
    (tree["root"] / "linkdir").symlink_to(tree["outside"], target_is_directory=True)
    for src in (tree["root"] / "link.mp4", tree["root"] / "linkdir" / "secret.mp4"):
        with pytest.raises(InvalidMediaError, match="resolved to .*outside"):
            load_video(src, policy=policy)
    # a symlink that stays inside, and a root that is itself a symlink, are fine
    (tree["root"] / "sub" / "inner.mp4").symlink_to(tree["root"] / "clip.mp4")
    inner = resolve_source(tree["root"] / "sub" / "inner.mp4", policy=policy)
    assert inner.path == os.path.realpath(tree["root"] / "clip.mp4")
    alias = tree["root"].parent / "alias"
    alias.symlink_to(tree["root"], target_is_directory=True)
    assert resolve_source(alias / "clip.mp4", policy=SourcePolicy(allowed_roots=(alias,))).path is not None


def test_refusal_does_not_reveal_existence(tree):
    policy = SourcePolicy(allow_local_paths=False)
    msgs = []
    for src in (tree["outside"] / "secret.mp4", tree["outside"] / "missing.mp4"):
        with pytest.raises(InvalidMediaError, match="not allowed") as e:
            resolve_source(src, policy=policy)
        msgs.append(str(e.value).replace("secret", "X").replace("missing", "X"))
    assert msgs[0] == msgs[1]


def test_library_default_unchanged(tree):
    assert LIBRARY_POLICY == SourcePolicy()
    src = resolve_source(tree["outside"] / "secret.mp4")
    assert src.path == str(tree["outside"] / "secret.mp4")  # not rewritten when there are no roots


def test_server_policy_refuses_by_default(tree, small_clip, monkeypatch):
    monkeypatch.delenv(ALLOWED_ROOTS_ENV, raising=False)
    policy = server_policy()
    assert not policy.allow_local_paths
    for src in (tree["root"] / "clip.mp4", (tree["root"] / "clip.mp4").as_uri()):
        with pytest.raises(InvalidMediaError, match=f"local file paths are not allowed.*{ALLOWED_ROOTS_ENV}"):
            load_video(src, policy=policy)
    # in-memory sources are not affected
    load_video(small_clip, policy=policy)
    load_video(f"data:video/mp4;base64,{base64.b64encode(small_clip).decode()}", policy=policy)


def test_server_policy_env_roots(tree, monkeypatch):
    other = tree["root"].parent / "other"
    other.mkdir()
    (other / "c.mp4").write_bytes((tree["root"] / "clip.mp4").read_bytes())
    monkeypatch.setenv(ALLOWED_ROOTS_ENV, os.pathsep.join([str(tree["root"]), "", str(other)]))
    policy = server_policy()
    assert policy.allowed_roots == (tree["root"], other)
    load_video(tree["root"] / "clip.mp4", policy=policy)
    load_video(other / "c.mp4", policy=policy)
    with pytest.raises(InvalidMediaError, match="outside the allowed media roots"):
        load_video(tree["outside"] / "secret.mp4", policy=policy)
    assert server_policy({ALLOWED_ROOTS_ENV: str(tree["outside"])}).allowed_roots == (tree["outside"],)


def test_data_url_cap_checked_before_decoding(small_clip, monkeypatch):
    url = f"data:video/mp4;base64,{base64.b64encode(small_clip).decode()}"

    def no_decode(*a, **k):
        raise AssertionError("decoded before the size check")

    monkeypatch.setattr(base64, "b64decode", no_decode)
    with pytest.raises(MediaTooLargeError, match="data URL payload: size in bytes"):
        resolve_source(url, limits=Limits(max_bytes=len(small_clip) - 100))
    monkeypatch.undo()
    assert resolve_source(url, limits=Limits(max_bytes=len(small_clip))).data == small_clip
    with pytest.raises(InvalidMediaError, match="not a video type"):
        resolve_source("data:text/html;base64,PGh0bWw+")


def test_trtllm_loaders_use_the_server_policy(tree, monkeypatch):
    from trtllm_standins.standin import use_standin

    from trtllm_mmfast.integrations import tensorrt_llm as mmfast

    clip = str(tree["root"] / "clip.mp4")
    monkeypatch.delenv(ALLOWED_ROOTS_ENV, raising=False)
    with use_standin("v1_2"):
        mmfast.enable()
        import tensorrt_llm.serve.chat_utils as chat_utils

        with pytest.raises(InvalidMediaError, match="not allowed"):
            asyncio.run(chat_utils.async_load_video(clip, format="np"))
        monkeypatch.setenv(ALLOWED_ROOTS_ENV, str(tree["root"]))
        assert len(asyncio.run(chat_utils.async_load_video(clip, format="np")).frames) == 10
    monkeypatch.delenv(ALLOWED_ROOTS_ENV)
    with use_standin("main"):
        mmfast.enable()
        import tensorrt_llm.serve.chat_utils as chat_utils

        io = chat_utils._make_media_io("video", None, {"video": {"format": "np"}})
        with pytest.raises(InvalidMediaError, match="not allowed"):
            asyncio.run(io.async_load(Path(clip).as_uri()))
        monkeypatch.setenv(ALLOWED_ROOTS_ENV, str(tree["root"]))
        assert len(asyncio.run(io.async_load(Path(clip).as_uri())).frames) == 10
