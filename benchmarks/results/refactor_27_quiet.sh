# quiet-machine re-measure: per version 1 cold (fills cache) then 3 warm, interleaved
mkdir -p /tmp/bench27q
for v in before after; do rm -rf /tmp/bench27q/cache_$v; mkdir -p /tmp/bench27q/cache_$v; done
for i in 0 1 2 3; do
  for v in before after; do
    root=/tmp/$v; cd $root
    /usr/bin/time -f "$v $i user %U sys %S wall %e" env PYTHONPATH=$root JAX_COMPILATION_CACHE_DIR=/tmp/bench27q/cache_$v BAYESFF_CACHE_DIR=/tmp/bench27q/cache_$v \
      /work/main/.venv/bin/bayesff calibrate models/argon_lj_b2.toml --out /tmp/bench27q/run_$v.nc --force --no-progress --quiet > /tmp/bench27q/cpu_$v$i.out 2>&1
    echo "$(tail -1 /tmp/bench27q/cpu_$v$i.out) | $(uptime | sed 's/.*load/load/')"
  done
done
