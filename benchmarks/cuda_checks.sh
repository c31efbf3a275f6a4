#!/usr/bin/env bash
# Everything that needs a CUDA device, in one run on a GPU machine: the training benchmark's GPU columns for
# ours-step1 at full width (fp32 and bf16, eager and compiled; target <= 0.03 s per iteration on one H100),
# then the CUDA tests (training every kind of method under bf16 autocast and torch.compile, held and
# streamed training sets, translation on the GPU against the CPU, the Noise Emulator learning check at a
# GPU budget). Results go to $OUT (default ./cuda-checks): pytest's log and JUnit XML, the benchmark's table.
#
#     bash benchmarks/cuda_checks.sh            # uses the python on PATH, which needs a CUDA build of torch
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-cuda-checks}"
mkdir -p "$out"

python - <<'PY' || exit 1
import torch
assert torch.cuda.is_available(), f"torch {torch.__version__} sees no CUDA device"
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}")
PY
python -c "import galtk" 2>/dev/null || python -m pip install --quiet -e ".[test]" || exit 1

python benchmarks/training.py --device cuda --methods ours-step1 --iterations 20 --warmup 5 2>&1 |
    tee "$out/training-benchmark.txt"
bench=${PIPESTATUS[0]}
python -m pytest -q -m cuda -p no:cacheprovider --junitxml="$out/cuda-tests.xml" -s 2>&1 | tee "$out/cuda-tests.log"
tests=${PIPESTATUS[0]}
echo "cuda tests: exit $tests; training benchmark: exit $bench"
[ "$tests" -eq 0 ] && [ "$bench" -eq 0 ]
