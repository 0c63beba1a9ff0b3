#!/bin/bash
# SIGINT and SIGTERM stop a run within seconds, exit 130, and leave no file behind.
set -u
cxsim=$1
out=$2
for sig in INT TERM; do
  rm -f "$out" "$out".tmp-*
  "$cxsim" run --customers 1000000 --steps 5000 --out "$out" --quiet &
  pid=$!
  sleep 2
  kill -s "$sig" "$pid"
  start=$(date +%s)
  wait "$pid"
  rc=$?
  took=$(( $(date +%s) - start ))
  if [ "$rc" -ne 130 ]; then echo "SIG$sig: exit code $rc, expected 130"; exit 1; fi
  if [ "$took" -gt 10 ]; then echo "SIG$sig: took ${took}s to stop"; exit 1; fi
  if ls "$out" "$out".tmp-* >/dev/null 2>&1; then echo "SIG$sig: left files behind"; exit 1; fi
  echo "SIG$sig: stopped in ${took}s with exit 130, nothing written"
done
