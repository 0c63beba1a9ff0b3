#!/bin/bash
# MPI sweeps (mpirun -np P cxsim sweep):
#  1. two processes write the file a single-process sweep writes, and both ran runs;
#  2. SIGTERM to mpirun stops the job within seconds with finished parts kept;
#     SIGKILL of one rank kills the job but keeps finished parts; --resume with
#     another number of processes (3, then none: no mpirun) completes the sweep
#     to the same file;
#  3. a run failing on any rank (its part directory deleted under it) stops
#     every rank: an error naming the file, exit 3, no hang, no final file;
#  4. rank 0 refusing to start (parts without --resume) ends every rank with
#     one message and exit 3;
#  5. a rank that cannot read its input, or sees another experiment than rank
#     0 (MPMD launches, as when machines differ), is reported by rank 0.
# Usage: mpi_sweep.sh CXSIM MPIEXEC EXPERIMENT COMPARE_RUNS DIR
set -u
cxsim=$1; mpiexec=$2; experiment=$3; compare=$4; dir=$5
python=/usr/bin/python3
mkdir -p "$dir"
cd "$dir" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

flags=()
if "$mpiexec" --version 2>&1 | grep -q "Open MPI\|OpenRTE\|open-mpi.org"; then
  flags+=(--oversubscribe)                               # more processes than cores is fine here
  [ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)   # CI containers run as root
fi
mpi() { local np=$1; shift; timeout 120 "$mpiexec" -n "$np" "${flags[@]}" "$cxsim" "$@"; }
start_mpi() {  # in the background; $job is mpiexec itself (the ranks are its children)
  local np=$1; shift
  "$mpiexec" -n "$np" "${flags[@]}" "$cxsim" "$@" &
  job=$!
  # A hang fails the test rather than the suite: a watchdog, which must not hold the output open.
  ( sleep 120; kill -KILL "$job" ) >/dev/null 2>&1 &
  watchdog=$!
}
finish_mpi() {  # waits for the background job; rc: its exit code
  wait "$job"; rc=$?
  kill "$watchdog" 2>/dev/null; wait "$watchdog" 2>/dev/null
}
rank_pid() {  # rank_pid MPIRUN_PID RANK: the process of that rank (a child of mpirun)
  local p
  for p in $(pgrep -P "$1"); do
    tr '\0' '\n' < "/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2\|PMI_RANK=$2" && { echo "$p"; return; }
  done
}
parts() { ls "$1".parts/*.run 2>/dev/null | wc -l; }
wait_parts() {  # wait_parts OUT N PID: until N parts exist (or the job ended)
  for _ in $(seq 600); do
    [ "$(parts "$1")" -ge "$2" ] && return 0
    kill -0 "$3" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# 1. Two processes, the single-process file.
reference=$dir/reference.h5
rm -rf "$reference" "$reference".parts two.h5 two.h5.parts
"$cxsim" sweep "$experiment" --out "$reference" --threads 2 --quiet || fail "single-process sweep exited with $?"
mpi 2 sweep "$experiment" --out two.h5 2> two.log; rc=$?
[ "$rc" -eq 0 ] || { cat two.log; fail "mpirun -n 2 sweep exited with $rc"; }
$python "$compare" "$reference" two.h5 || fail "2 processes differ from the single-process sweep"
grep -Eq "run now by ranks 0\.\.\.1: [1-9][0-9]* \+ [1-9][0-9]*\)" two.log || { cat two.log; fail "a rank ran no runs"; }
grep "run now" two.log

# 2. Interrupted and killed, resumed with other process counts.
# SIGTERM: longer runs (300 steps), so that the stop lands while most of the
# sweep is ahead: the whole short sweep can finish in the second it takes.
out=cut.h5
rm -rf "$out" "$out".parts
start_mpi 2 sweep "$experiment" --out "$out" --quiet --set scenario.steps=300
wait_parts "$out" 1 "$job" || fail "no parts appeared"
kill -TERM "$job"
start=$(date +%s)
finish_mpi
took=$(( $(date +%s) - start ))
[ "$took" -le 10 ] || fail "SIGTERM to mpirun: took ${took}s to stop"
[ "$rc" -ne 0 ] || fail "SIGTERM to mpirun: exit 0"
[ -e "$out" ] && fail "SIGTERM to mpirun: final file exists"
kept=$(parts "$out")
[ "$kept" -ge 1 ] || fail "SIGTERM to mpirun: finished parts lost"
echo "SIGTERM to mpirun: stopped in ${took}s (exit $rc), $kept parts kept"

# SIGKILL of rank 1, on a fresh sweep: runs start longest first, so after the
# first part most of the work is still ahead and the kill cannot come too late
# (after a resume, only the quick runs may be left and the job could finish first).
rm -rf "$out" "$out".parts
kept=0
start_mpi 2 sweep "$experiment" --out "$out" --quiet
wait_parts "$out" 1 "$job" || fail "no parts appeared"
victim=$(rank_pid "$job" 1)
[ -n "$victim" ] || fail "rank 1 not found"
kill -KILL "$victim"
finish_mpi
[ "$rc" -ne 0 ] || fail "SIGKILL of rank 1: exit 0"
[ -e "$out" ] && fail "SIGKILL of rank 1: final file exists"
kept2=$(parts "$out")
[ "$kept2" -ge $((kept + 1)) ] || fail "SIGKILL of rank 1: finished parts lost ($kept2)"
echo "SIGKILL of rank 1: job ended (exit $rc), $kept2 parts kept"

mpi 3 sweep "$experiment" --out "$out" --resume 2> resume3.log; rc=$?
[ "$rc" -eq 0 ] || { cat resume3.log; fail "resume with 3 processes exited with $rc"; }
grep "run now" resume3.log
$python "$compare" "$reference" "$out" || fail "resumed with 3 processes: differs from the single-process sweep"
[ -e "$out".parts ] && fail "parts left behind"

# ... and killed again, resumed without MPI.
rm -rf "$out" "$out".parts
start_mpi 2 sweep "$experiment" --out "$out" --quiet
wait_parts "$out" 2 "$job" || fail "no parts appeared"
kill -KILL "$(rank_pid "$job" 0)"
finish_mpi
"$cxsim" sweep "$experiment" --out "$out" --resume --quiet || fail "single-process resume of an MPI sweep"
$python "$compare" "$reference" "$out" || fail "MPI sweep resumed by one process differs"
echo "killed MPI sweeps resumed with 3 processes and with 1 to the single-process file"

# 3. A failing run on any rank stops every rank.
# (The part directory is removed while a run is being written: its rank fails
# creating the part, or renaming it into place if the part was created just
# before; either message names the part.)
out=broken.h5
rm -rf "$out" "$out".parts
start_mpi 2 sweep "$experiment" --out "$out" --quiet 2> broken.log
wait_parts "$out" 1 "$job" || fail "no parts appeared"
rm -rf "$out".parts
start=$(date +%s)
finish_mpi
took=$(( $(date +%s) - start ))
[ "$rc" -eq 3 ] || { cat broken.log; fail "failing run: exit $rc, expected 3"; }
[ "$took" -le 20 ] || fail "failing run: took ${took}s to end"
grep -qE "^cxsim: .*cannot (write|rename) '.*$out.parts/" broken.log || { cat broken.log; fail "failing run: no error naming the part"; }
[ -e "$out" ] && fail "failing run: final file exists"
echo "a failing run ended the job in ${took}s: $(grep '^cxsim:' broken.log)"

# 4. Rank 0 refuses to start: one message, exit 3, every rank ends.
mkdir -p stale.h5.parts
mpi 2 sweep "$experiment" --out stale.h5 2> stale.log; rc=$?
[ "$rc" -eq 3 ] || { cat stale.log; fail "stale parts: exit $rc, expected 3"; }
[ "$(grep -c '^cxsim: part files of an earlier sweep' stale.log)" -eq 1 ] || { cat stale.log; fail "stale parts: not one message"; }
echo "stale parts refused once: $(grep '^cxsim:' stale.log)"

# 5. Ranks that disagree on their input (one launch per rank: mpiexec A : B).
mpmd() { timeout 120 "$mpiexec" "${flags[@]}" -n 1 "$cxsim" sweep "$experiment" --out mpmd.h5 : -n 1 "$cxsim" "$@"; }
mpmd sweep "$dir/no_such_experiment.toml" --out mpmd.h5 2> mpmd.log; rc=$?
[ "$rc" -eq 3 ] || { cat mpmd.log; fail "unreadable input on rank 1: exit $rc, expected 3"; }
grep -q "^cxsim: rank 1: cannot read experiment file '.*no_such_experiment.toml'" mpmd.log || { cat mpmd.log; fail "rank 1's error not reported"; }
mpmd sweep "$experiment" --out mpmd.h5 --set brands.Anchor.price=9 2> mpmd.log; rc=$?
[ "$rc" -eq 3 ] || { cat mpmd.log; fail "another experiment on rank 1: exit $rc, expected 3"; }
grep -q "^cxsim: rank 1: .* the experiment has fingerprint .* as on rank 0" mpmd.log || { cat mpmd.log; fail "fingerprint mismatch not reported"; }
ls mpmd.h5* >/dev/null 2>&1 && fail "ranks that disagree left files behind"
echo "ranks that disagree: $(grep -c '^cxsim: rank 1:' mpmd.log) message from rank 0 each time"
echo "MPI sweeps: identical to the single-process sweep; interruptions, kills and errors handled"
