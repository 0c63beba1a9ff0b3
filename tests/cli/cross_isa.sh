#!/bin/bash
# Cross-ISA check: the customer kernel is compiled once per vector instruction
# set (target_clones: x86-64-v4, AVX2, baseline) and must give bit-identical
# results on each. The Release build runs the widest clone this CPU has; the
# sanitizer build has no clones and runs the baseline (SSE2) code, with the
# vector parts in two 8-lane halves (vector_lanes_for_cpu), so on an AVX-512
# machine this also checks halves against one 16-lane vector. Both run
# the same scenarios here, and every dataset and attribute must match (only
# timestamps, how the run was started and the build type may differ).
#
#   tests/cli/cross_isa.sh RELEASE_CXSIM BASELINE_CXSIM
set -euo pipefail
cd "$(dirname "$0")/../.."
wide=$1
base=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
clone=baseline
grep -qw avx2 /proc/cpuinfo && clone=avx2
grep -qw avx512bw /proc/cpuinfo && grep -qw avx512dq /proc/cpuinfo && clone=x86-64-v4
echo "cross-ISA: $wide runs the $clone clone here, $base the baseline code"
# 8 brands (packed trust rows in full words), then 4 brands with a burn-in.
run() {  # name scenario customers
  "$wide" run "$2" --customers "$3" --threads 2 --out "$tmp/$1_wide.h5" --quiet
  "$base" run "$2" --customers "$3" --threads 2 --out "$tmp/$1_base.h5" --quiet
  /usr/bin/python3 tests/cli/compare_runs.py --also-ignore build_type "$tmp/$1_wide.h5" "$tmp/$1_base.h5"
}
run throughput bench/scenarios/throughput.toml 30000
run take_a_stand scenarios/take_a_stand.toml 20000
