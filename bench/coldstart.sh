#!/usr/bin/env bash
# Benchmark: what a newcomer waits for. For each git revision given (HEAD
# by default), from a clean export of that revision (so edits in the work
# tree never leak into a build):
#
#   cold   `go run ./cmd/investiq-mon generate` (and, where the revision
#          has it, `go run ./cmd/investiq-mon-generate`) with an empty GOCACHE: the
#          first run on a fresh machine. GOMODCACHE is shared: downloads
#          are not compiling, and the module cache is usually there.
#   warm   the same `go run` again (Go caches the linked binary too)
#   size   of `go build -o` output
#   help   `investiq-mon --help`, process start to exit
#   gen    `investiq-mon generate` on an up-to-date stack, whole process
#
# Start-up and generate are the minimum and median of RUNS fresh
# processes, next to a peer measured in the same loop: a hello-world Go
# binary (its start is the floor any Go program pays). Cold builds of two
# revisions are run one after the other; on a shared machine compare them
# only when the load (printed) was alike, or use PARALLEL=1 to build them
# at the same time, under the same load.
#
#   bash bench/coldstart.sh                  # HEAD
#   bash bench/coldstart.sh 8575c5d HEAD     # before/after, same run
#   RUNS=21 COLD=0 bash bench/coldstart.sh   # skip the cold builds
set -euo pipefail

cd "$(dirname "$0")/.."
RUNS=${RUNS:-11}
COLD=${COLD:-1}
PARALLEL=${PARALLEL:-0}
revs=("$@")
[[ ${#revs[@]} -gt 0 ]] || revs=(HEAD)
# Resolve every revision once: HEAD may move while the cold builds run.
for i in "${!revs[@]}"; do revs[i]=$(git rev-parse --short "${revs[i]}"); done

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
load() { cut -d' ' -f1 /proc/loadavg; }
# stats prints "min median" of the numbers on stdin.
stats() { sort -n | awk '{a[NR]=$1} END {printf "%d %d", a[1], a[int((NR+1)/2)]}'; }

# export REV DIR: the tracked files of REV, as a fresh clone has them (a
# git repository, so generate's .gitignore check runs as it would).
export_rev() {
	mkdir -p "$2"
	git archive "$1" | tar -x -C "$2"
	git -C "$2" init -q
}

# entries DIR: the ways to run generate that the revision in DIR has, as
# "name package subcommand": the full CLI, and the light binary of
# generate alone where it exists.
entries() {
	echo "full ./cmd/investiq-mon generate"
	if [[ -d $1/cmd/investiq-mon-generate ]]; then echo "light ./cmd/investiq-mon-generate -"; fi
}

# cold ID DIR PKG SUB: go run PKG SUB with a fresh GOCACHE; prints ms.
cold() {
	local cache="$work/gocache-$1" t0 t1 sub=$4
	[[ $sub == - ]] && sub=
	t0=$(now)
	(cd "$2" && GOCACHE="$cache" GOFLAGS=-mod=readonly go run "$3" $sub -o "$work/out-cold-$1" >/dev/null 2>&1)
	t1=$(now)
	echo "$(ms "$t0" "$t1")"
}

printf 'package main\n\nimport "os"\n\nfunc main() { os.Stdout.WriteString("hello\\n") }\n' >"$work/hello.go"
(cd "$work" && go build -o hello hello.go)

declare -A cold_ms
jobs=() # "id name pkg sub"
for rev in "${revs[@]}"; do
	id=$(git rev-parse --short "$rev")
	export_rev "$rev" "$work/src-$id"
	while read -r name pkg sub; do jobs+=("$id $name $pkg $sub"); done < <(entries "$work/src-$id")
done
if [[ $COLD == 1 ]]; then
	echo "cold builds (load before: $(load), $(nproc) CPUs)..." >&2
	for j in "${jobs[@]}"; do
		read -r id name pkg sub <<<"$j"
		if [[ $PARALLEL == 1 ]]; then
			cold "$id-$name" "$work/src-$id" "$pkg" "$sub" >"$work/cold-$id-$name" &
		else
			cold "$id-$name" "$work/src-$id" "$pkg" "$sub" >"$work/cold-$id-$name"
		fi
	done
	wait
	for j in "${jobs[@]}"; do
		read -r id name pkg sub <<<"$j"
		cold_ms[$id-$name]=$(cat "$work/cold-$id-$name")
	done
	echo "load after cold builds: $(load)" >&2
fi

printf '%-15s %9s %8s %9s %17s %17s %17s\n' rev/entry cold_s warm_s size_MB "help_ms min/med" "gen_ms min/med" "peer_ms min/med"
for j in "${jobs[@]}"; do
	read -r id name pkg sub <<<"$j"
	[[ $sub == - ]] && sub=
	src="$work/src-$id"
	bin="$work/bin-$id-$name"
	(cd "$src" && go build -o "$bin" "$pkg")
	size=$(stat -c %s "$bin")

	# Warm: the shared build cache now holds this revision's packages and,
	# after one go run, its binary.
	(cd "$src" && go run "$pkg" $sub -o "$work/out-warm-$id" >/dev/null 2>&1)
	t0=$(now)
	(cd "$src" && go run "$pkg" $sub -o "$work/out-warm-$id" >/dev/null 2>&1)
	t1=$(now)
	warm=$(ms "$t0" "$t1")

	# The stack is generated once; each timed generate then renders,
	# compares and finds nothing to write, as a repeated run does.
	(cd "$src" && "$bin" $sub >/dev/null 2>&1)
	help=() gen=() peer=()
	for ((i = 0; i < RUNS; i++)); do
		t0=$(now); "$work/hello" >/dev/null; t1=$(now); peer+=("$(( (t1 - t0) / 1000 ))")
		t0=$(now); "$bin" --help >/dev/null; t1=$(now); help+=("$(( (t1 - t0) / 1000 ))")
		t0=$(now); (cd "$src" && "$bin" $sub >/dev/null 2>&1); t1=$(now); gen+=("$(( (t1 - t0) / 1000 ))")
	done
	us2ms() { awk '{printf "%.1f/%.1f", $1/1000, $2/1000}'; }
	h=$(printf '%s\n' "${help[@]}" | stats | us2ms)
	g=$(printf '%s\n' "${gen[@]}" | stats | us2ms)
	p=$(printf '%s\n' "${peer[@]}" | stats | us2ms)
	c=${cold_ms[$id-$name]:-}
	printf '%-15s %9s %8.1f %9.1f %17s %17s %17s\n' "$id/$name" "${c:+$(awk -v m="$c" 'BEGIN{printf "%.1f", m/1000}')}" \
		"$(awk -v m="$warm" 'BEGIN{print m/1000}')" "$(awk -v b="$size" 'BEGIN{print b/1e6}')" "$h" "$g" "$p"
done
echo "load at end: $(load); $(nproc) CPUs; $(go version | cut -d' ' -f3)" >&2
