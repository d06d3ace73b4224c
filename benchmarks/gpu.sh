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
# chainmd: NPT MD (the jax-md engine, float64) of the n-butane Mie chain at the three
#        parameter sets that reports/alkane_chains/md_vs_eos.csv simulated with OpenMM on
#        the CPU, same settings (150 molecules, 10,000 + 30,000 steps of 2 fs), two
#        temperatures each: an engine cross-check and the GPU's MD speed; writes
#        $OUT/md_vs_eos_jaxmd.csv (MD_EQUIL, MD_STEPS, MD_TIMEOUT override);
# alkane: issue 30's forward-model case (12 n-alkane chains x 20 temperatures x 4 chains,
#        value and gradient; vle_bench.py --alkanes), then the n-alkane model (b12)
#        (models/alkane_chains/transferable_n12.toml, 4 x (500 + 500), Laplace start) run
#        twice by `bayesff calibrate`: from an empty compilation cache, then with its
#        programs on disk (ALKANE_TIMEOUT and ALKANE_WARM_TIMEOUT override the
#        runs' limits, default 300 s each);
# atlas: the atlas cross-section (models/atlas/atlas_sample.toml, 12 tasks) as a sweep of
#        4 LocalCluster workers sharing the GPU (memory not preallocated); the sweep's
#        journal (start and end of every task) and atlas.csv go to $OUT. ATLAS_SWEEP
#        (another sweep file), ATLAS_WORKERS and ATLAS_ONLY (the sweep's --only options,
#        e.g. "--only potential=lj") choose another slice: with one worker the sweep
#        batches each structure's tasks into one program (calibrate_many), as it does on
#        any accelerator.
# tempered: one of the atlas's two-mode runs (docs/atlas.md, "Parallel tempering") with
#        sampler = "tempered", 4 replicas to T = 10, in one process with progress
#        (benchmarks/tempered_task.py), then its figures (benchmarks/run_diagnostics.py).
#        TEMPERED_RUNS lists task:warmup:samples:timeout_s (default
#        "oxygen-lj-B2_VLE:300:300:180"); the same command with PATH=.venv/bin:$PATH is
#        the CPU column.
set -o pipefail
export PYTHONUNBUFFERED=1 BAYESFF_CACHE_DIR=/tmp/bayesff-cache
OUT=${OUT:?set OUT to a folder for the results}
STEPS=${*:-vle nuts}
mkdir -p "$OUT"
export PYTHONPATH=$PWD
if ! python3 -c "import arviz_stats, distributed, h5netcdf, tinygp, jax_md, pymbar, jsonschema" 2>/dev/null; then
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
if [[ " $STEPS " == *" chainmd "* ]]; then
    # label, epsilon/k (K), sigma (angstrom), n: the rows of md_vs_eos.csv (6 digits)
    for set in "posterior mean:251.135:3.96714:12.5663" "draw 0:245.897:3.97081:12.1206" \
        "draw 1999:253.472:3.96603:12.7758"; do
        IFS=: read -r label eps sig n <<< "$set"
        timeout ${MD_TIMEOUT:-170} python3 -X faulthandler -m studies.mie_chain_md --engine jax-md \
            --label "$label" --epsilon "$eps" --sigma "$sig" --n "$n" --molecules 150 \
            --equil ${MD_EQUIL:-10000} --steps ${MD_STEPS:-30000} \
            --out "$OUT/md_vs_eos_jaxmd.csv" 2>&1 | grep -v "timeseries module" | tee -a "$OUT/chainmd.txt"
        echo "chainmd $label: exit status ${PIPESTATUS[0]}" | tee -a "$OUT/chainmd.txt"
    done
fi
if [[ " $STEPS " == *" alkane "* ]]; then
    timeout ${BENCH_TIMEOUT:-150} python3 -X faulthandler benchmarks/vle_bench.py --alkanes --repeats 30 \
        --out "$OUT/vle_bench_alkanes_gpu.json" 2>&1 | tee "$OUT/vle_bench_alkanes_gpu.txt"
    echo "alkane bench: exit status ${PIPESTATUS[0]}"
    rm -rf "$BAYESFF_CACHE_DIR"
    for pass in cold warm; do
        start=$(date +%s.%N)
        limit=${ALKANE_TIMEOUT:-300}; [[ $pass == warm ]] && limit=${ALKANE_WARM_TIMEOUT:-$limit}
        timeout $limit python3 -X faulthandler -m bayesff.cli calibrate \
            models/alkane_chains/transferable_n12.toml --out /tmp/gpu-alkane/posterior.nc \
            --force 2>&1 | tee "$OUT/alkane_b12_gpu_$pass.txt"
        status=${PIPESTATUS[0]}
        echo "alkane b12 $pass: exit status $status, wall $(python3 -c "print(round($(date +%s.%N) - $start, 1))") s" \
            | tee -a "$OUT/alkane_b12_gpu_$pass.txt"
    done
fi
if [[ " $STEPS " == *" atlas "* ]]; then
    mkdir -p /tmp/gpu-atlas
    XLA_PYTHON_CLIENT_PREALLOCATE=false timeout ${ATLAS_TIMEOUT:-480} python3 -X faulthandler \
        -m bayesff.cli sweep ${ATLAS_SWEEP:-models/atlas/atlas_sample.toml} \
        --workers ${ATLAS_WORKERS:-4} ${ATLAS_ONLY:-} \
        --runs /tmp/gpu-atlas/runs --reports /tmp/gpu-atlas/reports --no-report \
        --no-progress 2>&1 | tee "$OUT/atlas_gpu.txt"
    echo "atlas: exit status ${PIPESTATUS[0]}"
    find /tmp/gpu-atlas -name "journal*" -exec cp {} "$OUT/" \;
    find /tmp/gpu-atlas -name "atlas.csv" -exec cp {} "$OUT/" \;
fi
if [[ " $STEPS " == *" tempered "* ]]; then
    for run in ${TEMPERED_RUNS:-oxygen-lj-B2_VLE:300:300:180}; do
        IFS=: read -r task warmup samples limit <<< "$run"
        timeout $limit python3 -X faulthandler benchmarks/tempered_task.py "$task" \
            --warmup "$warmup" --samples "$samples" --out "/tmp/gpu-tempered/$task.nc" 2>&1 \
            | tr '\r' '\n' | tee "$OUT/tempered_$task.txt"
        echo "tempered $task: exit status ${PIPESTATUS[0]}" | tee -a "$OUT/tempered_$task.txt"
    done
    python3 benchmarks/run_diagnostics.py /tmp/gpu-tempered/*.nc --json "$OUT/tempered.json" \
        2>&1 | tee "$OUT/tempered_figures.txt"
fi
