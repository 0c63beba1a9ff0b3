#!/bin/bash
# A sweep killed at random points (SIGKILL, SIGTERM, SIGINT) and resumed with
# --resume ends with the same file as an uninterrupted sweep; SIGTERM/SIGINT
# stop within seconds with exit code 130; finished runs are never lost.
set -u
# Job control: without it bash starts background jobs with SIGINT ignored, and
# a SIGINT that lands before cxsim installs its handler would be lost (the
# sweep would then run to the end). With it, such an early signal kills the
# process, as it would in a terminal.
set -m
cxsim=$1; experiment=$2; compare=$3; dir=$4
python=/usr/bin/python3
mkdir -p "$dir"
ref=$dir/reference.h5
rm -rf "$ref" "$ref".parts
"$cxsim" sweep "$experiment" --out "$ref" --threads 2 --quiet || { echo "reference sweep failed"; exit 1; }

trial=0
for sig in KILL TERM INT KILL; do
  trial=$((trial + 1))
  out=$dir/interrupted_$trial.h5
  rm -rf "$out" "$out".parts
  kills=0
  # Kill up to twice at random moments, then let it finish with --resume.
  for attempt in 1 2 3; do
    flag=""; [ "$attempt" -gt 1 ] && flag="--resume"
    "$cxsim" sweep "$experiment" --out "$out" --threads 2 --quiet $flag &
    pid=$!
    if [ "$attempt" -lt 3 ]; then
      sleep "0.$(( (RANDOM % 9) + 1 ))$(( RANDOM % 10 ))"
      kill -s "$sig" "$pid" 2>/dev/null && kills=$((kills + 1))
      start=$(date +%s)
      wait "$pid"; rc=$?
      took=$(( $(date +%s) - start ))
      # 130: cxsim stopped cleanly; 128 + the signal's number: the signal landed
      # before cxsim installed its handler (under ASan start-up takes a while),
      # which is fine as long as no final file is left (checked below).
      killed=$(( 128 + $(kill -l "$sig") ))
      if [ "$sig" != KILL ] && [ "$rc" -ne 130 ] && [ "$rc" -ne "$killed" ] && [ "$rc" -ne 0 ]; then
        echo "SIG$sig: exit $rc"; exit 1
      fi
      if [ "$took" -gt 10 ]; then echo "SIG$sig: took ${took}s to stop"; exit 1; fi
      if [ "$rc" -eq 0 ]; then break; fi
      # An interrupted sweep never leaves a final file that looks complete.
      if [ -e "$out" ]; then echo "SIG$sig: final file exists after interruption"; exit 1; fi
    else
      wait "$pid" || { echo "resume failed"; exit 1; }
    fi
  done
  [ -e "$out" ] || { echo "trial $trial: no final file"; exit 1; }
  [ -e "$out".parts ] && { echo "trial $trial: parts left behind"; exit 1; }
  $python "$compare" "$ref" "$out" || { echo "trial $trial (SIG$sig, $kills kills): differs"; exit 1; }
done
echo "all interrupted sweeps resumed to files identical to the uninterrupted one"
