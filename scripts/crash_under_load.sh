#!/usr/bin/env bash
# The crash tests N times in a row under artificial CPU load: one busy process per core (killed at
# the end), as issue 12.4 asks (the kill-and-rerun test once failed only under load).
#   scripts/crash_under_load.sh [N=20] [pytest -k expression]
# Prints one line per run (PASS/FAIL, seconds, pytest's last line, load average); exit 1 on a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}
k=${2:-}
py=${PYTHON:-.venv/bin/python}
busy=()
for _ in $(seq "$(nproc)"); do "$py" -c 'while 1: pass' & busy+=($!); done
trap 'kill "${busy[@]}" 2>/dev/null' EXIT
log=$(mktemp)
pass=0
for i in $(seq "$n"); do
  s=$(date +%s)
  if "$py" -m pytest tests/test_crash.py -q -p no:cacheprovider ${k:+-k "$k"} >"$log" 2>&1; then
    pass=$((pass + 1)); r=PASS
  else
    r="FAIL (log: ${TMPDIR:-/tmp}/crash_under_load_$i.log)"; cp "$log" "${TMPDIR:-/tmp}/crash_under_load_$i.log"
  fi
  echo "run $i: $r ($(($(date +%s) - s)) s) $(tail -1 "$log") load=$(cut -d' ' -f1 /proc/loadavg)"
done
rm -f "$log"
echo "passed $pass of $n"
[ "$pass" -eq "$n" ]
