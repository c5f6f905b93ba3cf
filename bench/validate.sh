#!/usr/bin/env bash
# Benchmark: `investiq-mon validate` against `promtool check rules` on the
# same generated rule files, in one run: a 10,000-rule file and a
# directory of 100 rule files (100 rules each). Startup counts: each tool is
# run as a fresh process, as CI runs it. The files are not the project's,
# so validate does promtool's work (upstream checks); the last line runs
# the house checks too (--profile all: the spec cross-checks of every
# expression), for reference against the same promtool run.
#
#   bash bench/validate.sh            # 5 runs of each, prints the ratio of medians
#   RUNS=10 bash bench/validate.sh
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

PROMTOOL=${PROMTOOL:-.tools/bin/promtool}
if [[ ! -x $PROMTOOL ]]; then
	echo "promtool not found at $PROMTOOL: run \`make tools\` first" >&2
	exit 1
fi
echo "building investiq-mon..." >&2
go build -o "$work/investiq-mon" ./cmd/investiq-mon

# gen FILE GROUPS RULES_PER_GROUP PREFIX writes valid, spec-clean rules:
# recording rules over the API's counters and histogram, and alerts with
# severity, summary and description, so neither tool finds anything and
# both do their full work. Every description template is different (it
# names its rule), so no template is parsed once for many rules.
gen() {
	awk -v groups="$2" -v per="$3" -v p="$4" 'BEGIN {
		print "groups:"
		for (g = 0; g < groups; g++) {
			printf "  - name: %s_group_%d\n    rules:\n", p, g
			for (r = 0; r < per; r++) {
				if (r % 4 == 3) {
					printf "      - alert: %sAlert%dx%d\n", toupper(substr(p,1,1)) substr(p,2), g, r
					printf "        expr: histogram_quantile(0.9, sum by (le) (rate(investiq_request_duration_milliseconds_bucket{endpoint=\"/api/%d\"}[5m]))) > %d\n", r, 100 + r
					printf "        for: 5m\n        labels:\n          severity: warning\n"
					printf "        annotations:\n          summary: p90 of /api/%d above %d ms\n          description: \"{{ $value }} ms on {{ $labels.instance }} (%s group %d rule %d)\"\n", r, 100 + r, p, g, r
				} else {
					printf "      - record: %s:requests:rate5m_%d_%d\n", p, g, r
					printf "        expr: sum by (endpoint) (rate(investiq_requests_total{endpoint=\"/api/%d\"}[5m])) / sum(rate(investiq_errors_total{type=\"t%d\"}[5m]))\n", r, g
				}
			}
		}
	}' > "$1"
}

gen "$work/big.yml" 100 100 big
mkdir -p "$work/dir"
for i in $(seq -w 1 100); do
	gen "$work/dir/rules_$i.yml" 10 10 "f$i"
done

# ms CMD... prints one run's wall time in milliseconds.
ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# compare NAME -- OURS... -- THEIRS... runs the two commands alternately
# RUNS times each, so both see the same machine load, and reports the
# median of each and their ratio.
compare() {
	local name=$1
	shift 2
	local ours=() theirs=() a b
	while [[ $1 != -- ]]; do ours+=("$1"); shift; done
	shift
	theirs=("$@")
	for _ in $(seq "$RUNS"); do
		a+="$(ms "${ours[@]}") "
		b+="$(ms "${theirs[@]}") "
	done
	report "$name" "$(tr ' ' '\n' <<<"$a" | grep . | median)" "$(tr ' ' '\n' <<<"$b" | grep . | median)"
}

report() {
	local what=$1 ours=$2 theirs=$3
	awk -v w="$what" -v o="$ours" -v t="$theirs" 'BEGIN {
		printf "%-34s investiq-mon %6d ms   promtool %6d ms   ratio %.2f\n", w, o, t, o / t
	}'
}

echo "median of $RUNS alternating runs, $(nproc) CPUs, load average $(cut -d' ' -f1 /proc/loadavg):"
compare "one file, 10,000 rules" -- "$work/investiq-mon" validate "$work/big.yml" -- "$PROMTOOL" check rules "$work/big.yml"
compare "100 files, 100 rules each" -- "$work/investiq-mon" validate "$work/dir" -- "$PROMTOOL" check rules "$work/dir"/*.yml
compare "10,000 rules, --profile all" -- "$work/investiq-mon" validate --profile all "$work/big.yml" -- "$PROMTOOL" check rules "$work/big.yml"
