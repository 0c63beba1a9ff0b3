#!/bin/bash
# Throughput and memory of `cxsim run bench/scenarios/throughput.toml` at
# 1M, 10M and 100M customers on 1 and 2 threads: the table of
# docs/performance.md. Each row is the best (lowest wall time) of REPEATS runs,
# end to end (initial population, every step, results written).
#
#   bench/measure.sh [BUILD_DIR]          (default build/release)
#   SIZES="1000000 10000000" THREADS="2" REPEATS=5 bench/measure.sh build/h5
#
# Customer-steps = customers x steps (no burn-in in this scenario); peak RSS
# from /usr/bin/time -f %M; bytes per customer = peak RSS / customers. The
# 100M rows run 52 steps (the scale test), the others the scenario's 156.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
cxsim=$build/sim/cxsim
sizes=${SIZES:-"1000000 10000000 100000000"}
threads_list=${THREADS:-"1 2"}
repeats=${REPEATS:-3}
out=${TMPDIR:-/tmp}/cxsim_measure_$$.h5
trap 'rm -f "$out"' EXIT

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary: $cxsim ($(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
echo
echo "| customers | threads | steps | wall (s) | customer-steps/s | peak RSS (MB) | bytes/customer | command |"
echo "|---:|---:|---:|---:|---:|---:|---:|---|"
for n in $sizes; do
  steps=156
  [ "$n" -ge 100000000 ] && steps=52
  reps=$repeats
  [ "$n" -ge 100000000 ] && reps=1
  for threads in $threads_list; do
    cmd="cxsim run bench/scenarios/throughput.toml --customers $n --threads $threads --set scenario.steps=$steps --out $out --quiet"
    best=""
    for ((r = 0; r < reps; ++r)); do
      line=$( { /usr/bin/time -f "%e %M" "$cxsim" run bench/scenarios/throughput.toml --customers "$n" --threads "$threads" \
                 --set scenario.steps=$steps --out "$out" --quiet; } 2>&1 | tail -1)
      wall=${line% *}
      rss=${line#* }
      if [ -z "$best" ] || awk "BEGIN{exit !($wall < ${best% *})}"; then best="$wall $rss"; fi
    done
    wall=${best% *}
    rss=${best#* }
    awk -v n="$n" -v t="$threads" -v s="$steps" -v w="$wall" -v r="$rss" -v c="${cmd/$out/out.h5}" 'BEGIN{
      printf "| %d | %d | %d | %.2f | %.3g | %.0f | %.1f | `%s` |\n", n, t, s, w, n * s / w, r / 1024, r * 1024 / n, c }'
  done
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
