#!/bin/bash
# Job-array sweeps: the shards of a sweep (--shard I/N, any thread counts),
# merged with `cxsim merge` in any order, give the file a single sweep writes.
# merge refuses parts of another experiment, a run in two parts, files that
# are not sweep results and (without --partial) missing runs: exit 3, one
# line naming the file, and no output file.
set -u
cxsim=$1; experiment=$2; compare=$3; reference=$4; dir=$5
python=/usr/bin/python3
mkdir -p "$dir"
cd "$dir" || exit 1
rm -rf shard_* merged* other_* garbage.h5 single.h5 out.h5*
fail() { echo "FAIL: $*"; exit 1; }

threads=(1 2 2)
for i in 0 1 2; do
  "$cxsim" sweep "$experiment" --shard "$i/3" --threads "${threads[$i]}" --out "shard_$i.h5" --quiet ||
    fail "shard $i/3 exited with $?"
done
$python - <<'EOF' || fail "shard files"
import h5py
ids = []
for i in range(3):
    with h5py.File(f"shard_{i}.h5") as f:
        assert f.attrs["shard"] == f"{i}/3", f.attrs["shard"]
        assert f.attrs["experiment_runs"] == 30
        runs = sorted(f["runs"])
        assert [r.decode() for r in f["summary"]["run_id"]] == runs
        ids += runs
assert sorted(ids) == [f"{i:06d}" for i in range(30)], ids
print("3 shards hold every run exactly once")
EOF

"$cxsim" merge merged.h5 shard_2.h5 shard_0.h5 shard_1.h5 --quiet || fail "merge exited with $?"
$python "$compare" "$reference" merged.h5 || fail "merged shards differ from the single sweep"

# Refusals: exit 3, one line that names the offending file, nothing written.
refuse() {  # refuse "what the message must contain" merge-arguments...
  local expect=$1; shift
  local err
  err=$("$cxsim" merge out.h5 "$@" 2>&1 >/dev/null); local rc=$?
  [ "$rc" -eq 3 ] || fail "merge $* exited with $rc, expected 3: $err"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "merge $*: not one line: $err"
  [[ "$err" == *"$expect"* ]] || fail "merge $*: '$err' does not say '$expect'"
  ls out.h5 out.h5.tmp-* >/dev/null 2>&1 && fail "merge $* left a file behind"
  echo "refused: $err"
}
"$cxsim" sweep "$experiment" --shard 1/3 --out other_1.h5 --quiet --set brands.Anchor.price=9.1 || fail "other sweep"
refuse "'other_1.h5' is from a different sweep of experiment 'sweep_small'" shard_0.h5 other_1.h5 shard_2.h5
refuse "is in both 'shard_1.h5' and 'shard_1.h5'" shard_0.h5 shard_1.h5 shard_1.h5 shard_2.h5
refuse "is in both 'shard_0.h5' and 'merged.h5'" shard_0.h5 merged.h5
echo "not HDF5" > garbage.h5
refuse "'garbage.h5': not a readable HDF5 file" shard_0.h5 garbage.h5 shard_1.h5 shard_2.h5
"$cxsim" run --customers 1000 --steps 30 --quiet --out single.h5 || fail "cxsim run"
refuse "'single.h5' is not the result of cxsim sweep" shard_0.h5 shard_1.h5 shard_2.h5 single.h5
refuse "10 of the 30 runs of experiment 'sweep_small' are in none of the parts (000002, 000005" shard_0.h5 shard_1.h5
refuse "'missing.h5': file does not exist" shard_0.h5 missing.h5

# A forgotten output name would overwrite the first shard: refused too.
err=$("$cxsim" merge shard_0.h5 shard_1.h5 shard_2.h5 2>&1); rc=$?
[ "$rc" -ne 0 ] && [[ "$err" == *"is shard 0/3 of a sweep"* ]] || fail "merge over a shard: rc $rc: $err"

# --partial merges what there is; the result merges with the rest.
"$cxsim" merge merged_partial.h5 shard_0.h5 shard_2.h5 --partial --quiet || fail "--partial exited with $?"
$python "$(dirname "$compare")/../io/h5py_check.py" merged_partial.h5 || fail "partial merge is not a valid file"
"$cxsim" merge merged_again.h5 merged_partial.h5 shard_1.h5 --quiet || fail "merge of a partial merge"
$python "$compare" "$reference" merged_again.h5 || fail "partial merge + the rest differs from the single sweep"
echo "shards merged to the single sweep's file; bad parts refused"
