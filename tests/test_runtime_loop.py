"""runtime.loop: uvloop when installed, plain asyncio otherwise."""

from __future__ import annotations

import asyncio
import logging
import sys
import warnings

import pytest

from trtllm_mmfast.runtime import loop as rloop

pytest.importorskip("uvloop")


@pytest.fixture(autouse=True)
def _restore_policy():
    yield
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        asyncio.set_event_loop_policy(None)


async def _which() -> bool:
    return rloop.is_uvloop()


def test_run_uses_uvloop():
    assert rloop.run(_which()) is True
    assert rloop.run(asyncio.sleep(0, result=7)) == 7


def test_is_uvloop_outside_a_loop_and_on_plain_asyncio():
    assert rloop.is_uvloop() is False
    assert asyncio.run(_which()) is False
    plain = asyncio.new_event_loop()
    try:
        assert rloop.is_uvloop(plain) is False
    finally:
        plain.close()


def test_install_is_idempotent_and_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DeprecationWarning leaks to the caller
        assert rloop.install() is True
        policy = asyncio.get_event_loop_policy()
        assert rloop.install() is True
        assert asyncio.get_event_loop_policy() is policy  # not replaced the second time
    assert asyncio.run(_which()) is True  # code that calls asyncio.run itself gets uvloop


def test_fallback_without_uvloop(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop -> ImportError
    monkeypatch.setattr(rloop, "_fallback_logged", False)
    with caplog.at_level(logging.INFO, logger=rloop.__name__):
        assert rloop.run(_which()) is False
        assert rloop.run(_which()) is False
        assert rloop.install() is False
    infos = [r for r in caplog.records if r.name == rloop.__name__]
    assert len(infos) == 1 and infos[0].levelno == logging.INFO and "uvloop" in infos[0].getMessage()
