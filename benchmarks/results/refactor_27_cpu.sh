# CPU time (user+sys) of a cold `bayesff calibrate models/argon_lj_b2.toml`, before vs after,
# interleaved (ABAB...), each with an empty JAX compile cache; wall time also recorded.
for i in 1 2 3; do
  for v in before after; do
    if [ $v = before ]; then root=/tmp/before; else root=/tmp/after; fi
    rm -rf /tmp/bench27/cache_$v; mkdir -p /tmp/bench27/cache_$v
    cd $root
    /usr/bin/time -f "$v $i user %U sys %S wall %e maxrss_kB %M" env PYTHONPATH=$root JAX_COMPILATION_CACHE_DIR=/tmp/bench27/cache_$v BAYESFF_CACHE_DIR=/tmp/bench27/cache_$v \
      /work/main/.venv/bin/bayesff calibrate models/argon_lj_b2.toml --out /tmp/bench27/run_$v.nc --force --no-progress --quiet > /tmp/bench27/cpu_$v$i.out 2>&1
    tail -1 /tmp/bench27/cpu_$v$i.out
    uptime
  done
done
