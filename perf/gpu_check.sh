#!/usr/bin/env bash
# gpu_check.sh: the nvdec backend's one GPU check, for a lent NVIDIA machine with Python 3.12 +
# torch and NO network. Run from the repository root (the device tool runs there):
#
#     bash perf/gpu_check.sh            # carry: [".whl"]; writes $OUT/gpu_check.json (< 8 minutes)
#
# Wheels it installs come from .whl/ (git-ignored), downloaded beforehand on a machine with network:
#
#     python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
#       --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d .whl \
#       pynvvideocodec==2.2.4 av==18.1.0 blake3==1.0.11
#
# (torch, torchvision, transformers, tokenizers, numpy, opencv-python-headless, click, uvloop, pytest
# and hypothesis are in that machine's image.) Steps, each bounded by `timeout`:
#   1. the NVDEC/NVENC driver libraries (libnvcuvid.so.1, libnvidia-encode.so.1): if absent, say so,
#      write the JSON and stop (PyNvVideoCodec cannot load there);
#   2. install the wheels into /tmp/site;
#   3. tests/test_nvdec.py (its CUDA tests run here: same indices as pyav, pixels and processor
#      outputs within tolerance) -> pass/fail counts and failures;
#   4. perf/bench_nvdec.py (nvdec vs pyav, 1080p 60 s, concurrency 1/8/32; pixel difference; 4K burst);
#   5. one JSON, $OUT/gpu_check.json: driver check, tests, benchmark, timings.
set -u
OUT="${OUT:-results}"
mkdir -p "$OUT"
WORK="$(mktemp -d /tmp/gpu_check.XXXXXX)"
START=$(date +%s)
PY=python3
export PYTHONDONTWRITEBYTECODE=1

echo "== 1. NVDEC driver libraries"
DRIVER_OK=1
for lib in libnvcuvid.so.1 libnvidia-encode.so.1; do
  if $PY -c "import ctypes, sys; ctypes.CDLL(sys.argv[1])" "$lib" 2>/dev/null; then
    echo "   found $lib"
  else
    echo "   MISSING $lib: this machine has no NVIDIA video driver library; PyNvVideoCodec cannot load"
    echo "   (in a container: NVIDIA_DRIVER_CAPABILITIES must include 'video')"
    DRIVER_OK=0
  fi
done
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$WORK/gpu.txt" 2>&1 || true

write_json() {
  $PY - "$OUT/gpu_check.json" "$WORK" "$DRIVER_OK" "$START" <<'EOF'
import json, os, sys, time, xml.etree.ElementTree as ET
out, work, driver_ok, start = sys.argv[1], sys.argv[2], sys.argv[3] == "1", int(sys.argv[4])
def read(name):
    p = os.path.join(work, name)
    return open(p).read().strip() if os.path.exists(p) else None
result = {"check": "gpu_check", "nvdec_driver_libraries": "present" if driver_ok else "absent",
          "gpu": read("gpu.txt"), "install": read("install.txt")}
junit = os.path.join(work, "tests.xml")
if os.path.exists(junit):
    suite = ET.parse(junit).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    cases = []
    for c in suite.iter("testcase"):
        state = "passed"
        for tag in ("failure", "error", "skipped"):
            el = c.find(tag)
            if el is not None:
                state = tag
                msg = (el.get("message") or "")[:400]
                break
        cases.append({"test": c.get("name"), "state": state, **({"message": msg} if state != "passed" else {})})
    result["tests"] = {k: sum(1 for c in cases if c["state"] == k) for k in ("passed", "failure", "error", "skipped")}
    result["tests"]["cuda"] = [c for c in cases if c["test"].startswith("test_cuda")]
    result["tests"]["not_passed"] = [c for c in cases if c["state"] in ("failure", "error")]
result["tests_tail"] = (read("tests.txt") or "")[-3000:] or None
bench = os.path.join(work, "bench_nvdec.json")
result["bench"] = json.load(open(bench)) if os.path.exists(bench) else None
result["bench_tail"] = (read("bench.txt") or "")[-3000:] or None
result["total_s"] = int(time.time()) - start
json.dump(result, open(out, "w"), indent=2, default=str)
print(f"wrote {out}")
EOF
}

if [ "$DRIVER_OK" != 1 ] && [ "${GPU_CHECK_IGNORE_DRIVER:-0}" != 1 ]; then  # =1: run the steps anyway (a dry run of this script)
  write_json
  exit 0
fi

echo "== 2. wheels -> /tmp/site"
if ls .whl/*.whl >/dev/null 2>&1; then
  timeout 120 $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    > "$WORK/install.txt" 2>&1 && echo "installed: $(ls .whl | tr '\n' ' ')" >> "$WORK/install.txt"
else
  echo "no .whl/ here: carry it (see this script's header)" | tee "$WORK/install.txt"
fi
export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
$PY -c "import PyNvVideoCodec as n, av, torch; print('PyNvVideoCodec', n.__version__, 'av', av.__version__, 'torch', torch.__version__, 'cuda', torch.cuda.is_available())" \
  >> "$WORK/install.txt" 2>&1 || echo "import check failed (see install)" >> "$WORK/install.txt"
tail -3 "$WORK/install.txt"

echo "== 3. tests/test_nvdec.py"
timeout 180 $PY -m pytest -q -p no:cacheprovider -o addopts="" -rfEs --junitxml="$WORK/tests.xml" tests/test_nvdec.py \
  > "$WORK/tests.txt" 2>&1
tail -5 "$WORK/tests.txt"

echo "== 4. perf/bench_nvdec.py"
timeout 270 $PY perf/bench_nvdec.py --out "$WORK/bench_nvdec.json" > "$WORK/bench.txt" 2>&1
tail -5 "$WORK/bench.txt"

echo "== 5. JSON"
write_json
