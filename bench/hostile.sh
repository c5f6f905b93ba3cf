#!/usr/bin/env bash
# Bounded resources (issue 17): `investiq-mon validate` and `investiq-mon
# test` beside `promtool check rules` and `promtool test rules` on the same
# hostile files, each a fresh process: wall time, peak RSS (GNU time's
# %M) and exit code. The files:
#
#   big-rules.yml   100 MB of valid rules (past validate's 32 MiB limit)
#   bomb-rules.yml  a YAML alias bomb ("billion laughs": 9 levels of 9)
#   deep-flow.yml   10,000-deep flow sequences  [[[[...]]]]
#   deep-block.yml  10,000-deep block sequences - - - - ...
#   deep.json       10,000-deep JSON arrays, validated as a dashboard
#   big-test.yml    a 100 MB rule-test file
#   bomb-test.yml   an alias bomb in a rule-test file
#   deep-test.yml   10,000-deep nesting in a rule-test file
#
#   bash bench/hostile.sh        # needs .tools/bin/promtool (make tools)
#   TIMEOUT=120 bash bench/hostile.sh   # kill each run after 120 s (exit 124)
set -uo pipefail

cd "$(dirname "$0")/.."
PROMTOOL=${PROMTOOL:-.tools/bin/promtool}
if [[ ! -x $PROMTOOL ]]; then
	echo "promtool not found at $PROMTOOL: run \`make tools\` first" >&2
	exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "building investiq-mon..." >&2
go build -o "$work/investiq-mon" ./cmd/investiq-mon
go run ./internal/validate/hostilegen "$work"

# run LABEL CMD...: one line, label, exit code, seconds, peak RSS.
run() {
	local label=$1
	shift
	/usr/bin/time -f '%e %M' -o "$work/time" timeout "${TIMEOUT:-300}" "$@" >/dev/null 2>"$work/err"
	local code=$?
	# GNU time writes "Command exited with non-zero status N" first.
	read -r secs kb < <(tail -1 "$work/time") || { secs=?; kb=0; }
	[[ $kb =~ ^[0-9]+$ ]] || kb=0
	printf '%-16s %-28s exit %3s  %7ss  %6d MiB  %s\n' "$file" "$label" "$code" "$secs" $((kb / 1024)) "$(tr '\n' ' ' <"$work/err" | cut -c1-90)"
}

for file in big-rules.yml bomb-rules.yml deep-flow.yml deep-block.yml; do
	run "investiq-mon validate" "$work/investiq-mon" validate --kind rules "$work/$file"
	run "promtool check rules" "$PROMTOOL" check rules "$work/$file"
done
file=deep.json
run "investiq-mon validate" "$work/investiq-mon" validate --kind dashboard "$work/$file"
for file in big-test.yml bomb-test.yml deep-test.yml; do
	run "investiq-mon test" "$work/investiq-mon" test "$work/$file"
	run "promtool test rules" "$PROMTOOL" test rules "$work/$file"
done
