#!/usr/bin/env bash
# Times `investiq-mon test` against `promtool test rules` on the same
# generated alert_rules_test.yml, in the same run, and prints the ratio.
#
#   bash bench/ruletest.sh            # 5 rounds, file scaled x20
#   ROUNDS=10 SCALE=50 bash bench/ruletest.sh
#
# The file is the one `investiq-mon generate` writes (every alert's cases,
# 10-15 minutes of 10s/30s samples each, evaluated every 10s). SCALE copies
# its test groups N times (renamed) so the run measures rule evaluation
# rather than process start; SCALE=1 times the file exactly as generated.
# Each round runs both tools back to back, alternating which goes first,
# so load from anything else on the machine falls on both alike.
set -euo pipefail

ROUNDS=${ROUNDS:-5}
SCALE=${SCALE:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
promtool=${PROMTOOL:-$root/.tools/bin/promtool}
[ -x "$promtool" ] || { echo "no promtool at $promtool: run \`make tools\`" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# INVESTIQ_MON times a binary built already; by default the checkout's.
iqm=${INVESTIQ_MON:-$work/investiq-mon}
[ -n "${INVESTIQ_MON:-}" ] || (cd "$root" && go build -o "$iqm" ./cmd/investiq-mon)
"$iqm" generate --out "$work/gen" >/dev/null 2>&1
src="$work/gen/prometheus/alert_rules_test.yml"
dir="$work/gen/prometheus"
file="$dir/bench_test.yml"

# Header up to `tests:`, then the groups SCALE times, each copy's names
# suffixed so every group stays distinct.
awk -v n="$SCALE" '
  !body { print; if ($0 == "tests:") body = 1; next }
  { groups[++k] = $0 }
  END {
    for (c = 1; c <= n; c++)
      for (i = 1; i <= k; i++) {
        line = groups[i]
        if (line ~ /^  - name: /) line = line " #" c
        print line
      }
  }' "$src" >"$file"
ngroups=$(grep -c '^  - name: ' "$file")

# Both must pass the file before their times mean anything.
"$promtool" test rules "$file" >/dev/null
"$iqm" test "$file" >/dev/null 2>&1

now() { date +%s.%N; }
timeit() { local t0 t1; t0=$(now); "$@" >/dev/null 2>&1; t1=$(now); echo "$t1 - $t0" | bc -l; }

ours=0 theirs=0
for r in $(seq 1 "$ROUNDS"); do
  if (( r % 2 )); then
    a=$(timeit "$iqm" test "$file"); b=$(timeit "$promtool" test rules "$file")
  else
    b=$(timeit "$promtool" test rules "$file"); a=$(timeit "$iqm" test "$file")
  fi
  printf 'round %d: investiq-mon %.3fs  promtool %.3fs\n' "$r" "$a" "$b"
  ours=$(echo "$ours + $a" | bc -l); theirs=$(echo "$theirs + $b" | bc -l)
done

printf '\n%d test groups (%d copies of the generated file), %d rounds, %s CPUs\n' "$ngroups" "$SCALE" "$ROUNDS" "$(nproc)"
printf 'investiq-mon test:   %.3fs per run\n' "$(echo "$ours / $ROUNDS" | bc -l)"
printf 'promtool test rules: %.3fs per run\n' "$(echo "$theirs / $ROUNDS" | bc -l)"
printf 'ratio investiq-mon/promtool: %.2f (below 1 is faster)\n' "$(echo "$ours / $theirs" | bc -l)"
