"""Processor families: ``processors.registry`` (FAMILIES, get, family_of), the family
modules' common surface, and the tiny offline processors of each family."""

from __future__ import annotations

from types import ModuleType

import pytest

from conftest import python_stdout
from trtllm_mmfast.processors import registry
from trtllm_mmfast.processors.registry import FAMILIES, Family, family_of, get
from trtllm_mmfast.video import sampling


def test_families_table():
    assert sorted(FAMILIES) == ["qwen2_vl", "qwen3_vl"]
    assert FAMILIES["qwen3_vl"] == Family(
        "qwen3_vl", "trtllm_mmfast.processors.qwen3_vl", ("qwen3_vl", "qwen3_vl_moe"), "qwen3_vl"
    )
    assert FAMILIES["qwen2_vl"] == Family(
        "qwen2_vl", "trtllm_mmfast.processors.qwen2_vl", ("qwen2_vl", "qwen2_5_vl"), "qwen2_vl"
    )
    for name, fam in FAMILIES.items():
        assert fam.name == name and fam.sampler in sampling._SAMPLERS
    with pytest.raises(TypeError):
        FAMILIES["x"] = FAMILIES["qwen3_vl"]  # read-only
    with pytest.raises(AttributeError):
        FAMILIES["qwen3_vl"].name = "x"  # frozen


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_get_returns_the_family_module(name):
    mod = get(name)
    assert isinstance(mod, ModuleType) and mod.__name__ == FAMILIES[name].module
    assert mod.FAMILY is FAMILIES[name]
    assert callable(mod.wrap) and callable(mod.sampler_for)


@pytest.mark.parametrize("bad", ["qwen2_5_vl", "Qwen3_VL", "", None, 3])
def test_get_unknown_lists_valid_names(bad):
    with pytest.raises(ValueError, match="qwen2_vl, qwen3_vl"):
        get(bad)


def test_registry_imports_nothing_heavy():
    code = (
        "import sys; from trtllm_mmfast.processors import registry; "
        "registry.family_of; heavy = {'torch', 'transformers', 'trtllm_mmfast.processors.qwen2_vl'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = python_stdout(code)
    assert out.strip() == "[]"


def test_family_of_unknown_names_the_class():
    class NotAProcessor:
        video_processor = object()

    with pytest.raises(TypeError, match="NotAProcessor"):
        family_of(NotAProcessor())
    with pytest.raises(TypeError, match="int"):
        family_of(3)


# ---- with transformers: the real processor classes ----------------------------------------

TINY = {"qwen3_vl": "Qwen3VLProcessor", "qwen2_vl": "Qwen2VLProcessor", "qwen2_5_vl": "Qwen2_5_VLProcessor"}
FAMILY_OF_TINY = {"qwen3_vl": "qwen3_vl", "qwen2_vl": "qwen2_vl", "qwen2_5_vl": "qwen2_vl"}


@pytest.fixture(scope="module")
def tiny():
    pytest.importorskip("torchvision")
    pytest.importorskip("transformers")
    from trtllm_mmfast.processors.tiny import tiny_processor

    return {f: tiny_processor(family=f) for f in TINY}


@pytest.mark.parametrize("which", sorted(TINY))
def test_family_of_processor_video_processor_and_wrappers(tiny, which):
    p = tiny[which]
    assert type(p).__name__ == TINY[which]
    fam = family_of(p)
    assert fam is FAMILIES[FAMILY_OF_TINY[which]]
    assert family_of(p.video_processor) is fam  # a bare video processor
    mod = get(fam.name)
    fast = mod.wrap(p)
    assert family_of(fast) is fam and type(fast).FAMILY is fam
    assert fast.hf is p and mod.wrap(fast) is fast
    sampler = mod.sampler_for(fast)
    assert sampler.name == fam.sampler and sampler == mod.sampler_for(p) == fast.sampler
    assert type(sampler) is type(sampling.get_sampler(fam.sampler))


def test_family_of_subclass_and_unknown_video_processor(tiny):
    from transformers import Qwen2_5_VLProcessor

    class MyProcessor(Qwen2_5_VLProcessor):
        pass

    sub = MyProcessor.__new__(MyProcessor)  # the class decides; no construction needed
    assert family_of(sub) is FAMILIES["qwen2_vl"]

    class Custom:
        video_processor = tiny["qwen3_vl"].video_processor  # an unknown processor class around a known video processor

    assert family_of(Custom()) is FAMILIES["qwen3_vl"]


def test_tiny_processor_families_round_trip(tmp_path):
    pytest.importorskip("torchvision")
    from trtllm_mmfast.processors.tiny import tiny_processor

    for which, cls in TINY.items():
        p = tiny_processor(tmp_path / which, family=which)
        assert type(p).__name__ == cls and family_of(p) is FAMILIES[FAMILY_OF_TINY[which]]
    assert type(tiny_processor()).__name__ == "Qwen3VLProcessor"  # the old call still works
    with pytest.raises(ValueError, match="qwen2_5_vl, qwen2_vl, qwen3_vl"):
        tiny_processor(family="llava")


def test_registry_all():
    assert registry.__all__ == ["FAMILIES", "Family", "family_of", "get"]
