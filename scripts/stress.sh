#!/usr/bin/env bash
# Hunts flaky tests: runs the whole suite in tests/ N times in a row under
# Deno, Bun and Node while one busy loop per core keeps the CPU loaded.
#
#   scripts/stress.sh [N] [deno|bun|node ...] [--json] [--no-load]
#
# N defaults to 10; the runtimes default to all three. Prints one line per
# suite run as it ends, then a table per runtime and, for each failure, the
# failing tests and the log to read (all logs stay in $STRESS_LOGS, a new
# temporary folder unless set). A suite run that takes over
# $STRESS_TIMEOUT seconds (1800 unless set) is killed and counts as a
# failure. --json prints the summary as one JSON object instead. Exits 0
# only when every run passed. Needs `npm install` first, like `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=10
runtimes=()
json=0
load=1
for arg in "$@"; do
  case "$arg" in
    --json) json=1 ;;
    --no-load) load=0 ;;
    deno | bun | node) runtimes+=("$arg") ;;
    -h | --help)
      sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      if [[ "$arg" =~ ^[1-9][0-9]*$ ]]; then
        runs=$arg
      else
        echo "Error: unknown argument \"$arg\" (see --help)" >&2
        exit 2
      fi
      ;;
  esac
done
[ ${#runtimes[@]} -gt 0 ] || runtimes=(deno bun node)

. scripts/_suite.sh

logs=${STRESS_LOGS:-$(mktemp -d "${TMPDIR:-/tmp}/soter-stress.XXXXXX")}
mkdir -p "$logs"
limit=${STRESS_TIMEOUT:-1800}
export -f suite

# One busy loop per core, stopped however this script ends.
busy=()
stop_load() {
  for pid in "${busy[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${busy[@]}"; do wait "$pid" 2>/dev/null || true; done
  busy=()
}
trap stop_load EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cores=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)
if [ "$load" = 1 ]; then
  for _ in $(seq "$cores"); do
    bash -c 'while :; do :; done' &
    busy+=($!)
  done
fi

say() { [ "$json" = 1 ] || printf '%s\n' "$*"; }
say "Stress: $runs runs of the suite under ${runtimes[*]}, $([ "$load" = 1 ] && echo "$cores busy loops" || echo "no extra load"); logs in $logs"

declare -A passed failed
for rt in "${runtimes[@]}"; do passed[$rt]=0 failed[$rt]=0; done
failures=()  # "run runtime seconds log"
started=$SECONDS
for i in $(seq "$runs"); do
  for rt in "${runtimes[@]}"; do
    log="$logs/run$i-$rt.log"
    t0=$SECONDS
    [ "$json" = 1 ] || printf 'run %d/%d %-4s ... ' "$i" "$runs" "$rt"
    if timeout --kill-after=10 "$limit" bash -c "suite $rt" >"$log" 2>&1; then
      status=0
    else
      status=$?
    fi
    dt=$((SECONDS - t0))
    if [ "$status" = 0 ]; then
      passed[$rt]=$((passed[$rt] + 1))
      say "pass ($dt s)"
    else
      failed[$rt]=$((failed[$rt] + 1))
      failures+=("$i $rt $dt $log")
      if [ "$status" = 124 ] || [ "$status" = 137 ]; then
        echo "timed out after $limit s" >>"$log"
        say "FAIL: timed out after $limit s, see $log"
      else
        say "FAIL (exit $status, $dt s), see $log"
      fi
    fi
  done
done
stop_load

# The names of the failing tests in a log, as each runner prints them.
failing_tests() {
  grep -E '^\(fail\) |^ *✖ |^[^ ].* => .*:[0-9]+:[0-9]+$| \.\.\. FAILED|^timed out after' "$1" |
    grep -v -E '^✖ failing tests:$' | sed 's/^ *//' | sort -u | head -20 || true
}

total=$((SECONDS - started))
if [ "$json" = 1 ]; then
  printf '{"runs":%d,"load":%s,"cores":%d,"seconds":%d,"logs":"%s","runtimes":{' \
    "$runs" "$([ "$load" = 1 ] && echo true || echo false)" "$cores" "$total" "$logs"
  sep=""
  for rt in "${runtimes[@]}"; do
    printf '%s"%s":{"passed":%d,"failed":%d}' "$sep" "$rt" "${passed[$rt]}" "${failed[$rt]}"
    sep=","
  done
  printf '},"failures":['
  sep=""
  for f in "${failures[@]}"; do
    read -r i rt dt log <<<"$f"
    tests=$(failing_tests "$log" | node -e 'process.stdout.write(JSON.stringify(require("fs").readFileSync(0, "utf8").split("\n").filter(Boolean)))')
    printf '%s{"run":%d,"runtime":"%s","seconds":%d,"log":"%s","tests":%s}' "$sep" "$i" "$rt" "$dt" "$log" "$tests"
    sep=","
  done
  printf ']}\n'
else
  printf '\n%-8s %6s %6s\n' runtime passed failed
  for rt in "${runtimes[@]}"; do printf '%-8s %6d %6d\n' "$rt" "${passed[$rt]}" "${failed[$rt]}"; done
  printf '%d suite runs in %d min %d s\n' $((runs * ${#runtimes[@]})) $((total / 60)) $((total % 60))
  for f in "${failures[@]}"; do
    read -r i rt dt log <<<"$f"
    printf '\nrun %d, %s (%d s): %s\n' "$i" "$rt" "$dt" "$log"
    failing_tests "$log" | sed 's/^/  /'
  done
fi
[ ${#failures[@]} -eq 0 ]
