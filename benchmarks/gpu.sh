#!/usr/bin/env bash
# The GPU measurements of benchmarks/RESULTS.md ("GPU: VLE forward models and NUTS").
#
# Run from the repository root on a machine with a CUDA GPU and JAX's CUDA plugin, with
# the package's missing dependencies as wheels in .whl/ (or installed), writing to $OUT:
#
#     OUT=/tmp/gpu bash benchmarks/gpu.sh [vle] [nuts] [chain]    # default: vle nuts
#
# vle:   value + gradient of the 4 VLE properties at 25 temperatures (LJ, Thol EOS) for 4
#        and 1024 parameter draws (vle_bench.py);
# nuts:  NUTS on models/argon_lj_vle.toml, 4 x (1000 + 1000), as on the CPU;
# chain: the SAFT-VR Mie chain at 1024 draws (its program compiles for minutes);
# atlas: the atlas cross-section (models/atlas/atlas_sample.toml, 12 tasks) as a sweep of
#        4 LocalCluster workers sharing the GPU (memory not preallocated); the sweep's
#        journal (start and end of every task) and atlas.csv go to $OUT.
set -o pipefail
export PYTHONUNBUFFERED=1 BAYESFF_CACHE_DIR=/tmp/bayesff-cache
OUT=${OUT:?set OUT to a folder for the results}
STEPS=${*:-vle nuts}
mkdir -p "$OUT"
export PYTHONPATH=$PWD
if ! python3 -c "import arviz_stats, distributed, h5netcdf, tinygp" 2>/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD
fi
{ nvidia-smi -L; uptime; python3 -c "import jax, numpyro; print('jax', jax.__version__, 'numpyro', numpyro.__version__, jax.devices())"; } 2>&1 | tee "$OUT/gpu_machine.txt"
# each step's exit status is printed: a crash of the Python process (a signal) is
# otherwise silent in a pipeline
if [[ " $STEPS " == *" vle "* ]]; then
    timeout 120 python3 -X faulthandler benchmarks/vle_bench.py --draws 4,1024 --repeats 20 \
        --out "$OUT/vle_bench_gpu.json" 2>&1 | tee "$OUT/vle_bench_gpu.txt"
    echo "vle: exit status ${PIPESTATUS[0]}"
fi
if [[ " $STEPS " == *" nuts "* ]]; then
    timeout 200 python3 -X faulthandler -m bayesff.cli calibrate models/argon_lj_vle.toml \
        --out /tmp/gpu-run/posterior.nc --force 2>&1 | tee "$OUT/argon_lj_vle_gpu.txt"
    echo "nuts: exit status ${PIPESTATUS[0]}"
fi
if [[ " $STEPS " == *" chain "* ]]; then
    timeout 300 python3 -X faulthandler benchmarks/vle_bench.py --draws 4 --chain 1024 \
        --repeats 10 --out "$OUT/vle_bench_chain_gpu.json" 2>&1 | tee "$OUT/vle_bench_chain_gpu.txt"
    echo "chain: exit status ${PIPESTATUS[0]}"
fi
if [[ " $STEPS " == *" atlas "* ]]; then
    mkdir -p /tmp/gpu-atlas
    XLA_PYTHON_CLIENT_PREALLOCATE=false timeout ${ATLAS_TIMEOUT:-480} python3 -X faulthandler \
        -m bayesff.cli sweep models/atlas/atlas_sample.toml --workers ${ATLAS_WORKERS:-4} \
        --runs /tmp/gpu-atlas/runs --reports /tmp/gpu-atlas/reports --no-report \
        --no-progress 2>&1 | tee "$OUT/atlas_gpu.txt"
    echo "atlas: exit status ${PIPESTATUS[0]}"
    find /tmp/gpu-atlas -name "journal*" -exec cp {} "$OUT/" \;
    find /tmp/gpu-atlas -name "atlas.csv" -exec cp {} "$OUT/" \;
fi
