#!/usr/bin/env bash
# bench-ab.sh — gb against an earlier gb: the same stages timed from two
# revisions on one generated tree, runs interleaved (A B, then B A, ...)
# so that the machine's drift falls on both alike.
#
#   scripts/bench-ab.sh [--files N] [--gb G] [--put-mb M] [--reps N] [--dir DIR] REV_A [REV_B]
#
# REV_A and REV_B are git revisions of this repository (REV_B defaults to
# the work tree as it is). Times, per revision:
#   gb-scan list.txt >/dev/null
#   gb-pack < plan.ndjson >/dev/null          (the plan made by that revision's gb-plan)
#   gb-put < packed.ndjson                    (one bag of random bytes to versitygw on 127.0.0.1)
# and prints the median and range (min-max) of each, and B's time over A's.
# Use it to show that a change made nothing slower: a ratio inside the
# ranges' overlap is noise. Needs go, git, GNU time (/usr/bin/time) and
# versitygw ($PATH or $(go env GOPATH)/bin). Exit codes: 0 done, 1 failure,
# 2 usage error.
set -euo pipefail

prog=bench-ab.sh
die() { echo "$prog: error: $1" >&2; exit "${2:-1}"; }
say() { echo "$prog: $*" >&2; }
usage() {
	sed -n '4,5p' "${BASH_SOURCE[0]}" | sed 's/^# *//'
	exit 2
}

files=100000 gb=1 put_mb=1000 reps=5 dir= revs=()
while [ $# -gt 0 ]; do
	case "$1" in
	--files) [ $# -ge 2 ] || usage; files=$2; shift 2 ;;
	--gb) [ $# -ge 2 ] || usage; gb=$2; shift 2 ;;
	--put-mb) [ $# -ge 2 ] || usage; put_mb=$2; shift 2 ;;
	--reps) [ $# -ge 2 ] || usage; reps=$2; shift 2 ;;
	--dir) [ $# -ge 2 ] || usage; dir=$2; shift 2 ;;
	-h | --help) usage ;;
	-*) echo "$prog: error: unknown option $1" >&2; usage ;;
	*) revs+=("$1"); shift ;;
	esac
done
[ ${#revs[@]} -ge 1 ] && [ ${#revs[@]} -le 2 ] || usage
[ -x /usr/bin/time ] || die "GNU time (/usr/bin/time) not found: apt-get install -y time"
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
vgw=$(type -P versitygw 2>/dev/null || true)
[ -n "$vgw" ] || vgw=$(go env GOPATH)/bin/versitygw
[ -x "$vgw" ] || die "versitygw not found: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"

work=${dir:-$(mktemp -d "${TMPDIR:-/tmp}/gb-bench-ab.XXXXXX")}
mkdir -p "$work"
vgw_pid=
cleanup() {
	if [ -n "$vgw_pid" ]; then kill "$vgw_pid" 2>/dev/null || true; wait "$vgw_pid" 2>/dev/null || true; fi
	git -C "$repo" worktree remove --force "$work/src-a" 2>/dev/null || true
	git -C "$repo" worktree remove --force "$work/src-b" 2>/dev/null || true
	if [ -z "$dir" ]; then rm -rf "${work:?}"; else rm -rf "${work:?}/run"; fi
}
trap cleanup EXIT
for v in $(compgen -e); do
	if [[ $v == GB_* || $v == AWS_* ]]; then unset "$v"; fi
done

# build NAME REV: bin/NAME from a detached worktree of REV ("" = work tree).
build() {
	local src=$repo
	if [ -n "$2" ]; then
		src=$work/src-$1
		git -C "$repo" worktree remove --force "$src" 2>/dev/null || true
		git -C "$repo" worktree add -q --detach "$src" "$2" || die "no revision $2"
	fi
	say "building $1 from ${2:-the work tree} ($(git -C "$src" describe --always --dirty))"
	(cd "$src" && go build -o "$work/bin-$1/" ./cmd/gb-scan ./cmd/gb-plan ./cmd/gb-pack ./cmd/gb-put ./internal/tools/gentree) ||
		die "go build of $1 failed"
}
build a "${revs[0]}"
build b "${revs[1]:-}"

tree=$work/tree marker="files=$files gb=$gb"
if [ "$(cat "$work/tree.marker" 2>/dev/null)" != "$marker" ]; then
	rm -rf "${tree:?}"
	say "generating $files files, $gb GB"
	"$work/bin-b/gentree" -root "$tree" -files "$files" -gb "$gb" -seed 1 >/dev/null || die "gentree failed"
	echo "$marker" >"$work/tree.marker"
fi
run=$work/run
rm -rf "${run:?}"
mkdir -p "$run/s3" "$run/logs"
echo "$tree ::MUTABLE" >"$run/list.txt"

# versitygw on a free loopback port.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=$((20000 + RANDOM % 30000))
"$vgw" --access gbab --secret gbabsecret0123456789 --port "127.0.0.1:$port" posix "$run/s3" </dev/null >"$run/logs/versitygw.log" 2>&1 &
vgw_pid=$!
for ((w = 0; w < 300; w++)); do port_open "$port" && break; sleep 0.1; done
port_open "$port" || die "versitygw did not start; see $run/logs/versitygw.log"
mkdir -p "$run/s3/gbab"
s3env=(AWS_ACCESS_KEY_ID=gbab AWS_SECRET_ACCESS_KEY=gbabsecret0123456789 AWS_REGION=us-east-1
	AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
	GB_S3_ENDPOINT=http://127.0.0.1:$port GB_DEST=s3://gbab GB_STAGING_LIMIT_GB=0)

# Each revision's own plan, so that each packs what it would pack.
for r in a b; do
	mkdir -p "$run/state-$r"
	env GB_STATE_DIR="$run/state-$r" GB_STAGING_LIMIT_GB=0 "$work/bin-$r/gb-scan" "$run/list.txt" 2>>"$run/logs/scan-$r.err" |
		env GB_STATE_DIR="$run/state-$r" GB_STAGING_LIMIT_GB=0 "$work/bin-$r/gb-plan" >"$run/plan-$r.ndjson" 2>>"$run/logs/plan-$r.err" ||
		die "plan of $r failed; see $run/logs"
done
head -c "$((put_mb * 1000000))" /dev/urandom >"$run/bag"
bag_sha=$(sha256sum "$run/bag" | cut -d' ' -f1)
echo '{"kind":"manifest","bag":"bag_000001"}' >"$run/manifest.ndjson"

results=$run/results.tsv
: >"$results"
# timed NAME CMD...: appends "NAME wall_ms cpu_ms".
timed() {
	local name=$1 t0 t1 usr sys
	shift
	sync
	t0=$(date +%s%N)
	/usr/bin/time -o "$run/time.out" -f '%U %S' "$@" 2>>"$run/logs/$name.err" || die "$name failed; see $run/logs/$name.err"
	t1=$(date +%s%N)
	read -r usr sys <"$run/time.out"
	echo "$name $(((t1 - t0) / 1000000)) $(echo "$usr $sys" | awk '{printf "%d", ($1 + $2) * 1000}')" >>"$results"
}
n=0
one() { # one REV: scan, pack, put once with that revision
	local r=$1 bin=$work/bin-$1
	n=$((n + 1))
	timed "scan-$r" env GB_STATE_DIR="$run/state-$r" "$bin/gb-scan" "$run/list.txt" >/dev/null
	rm -rf "${run:?}/stage"
	timed "pack-$r" env GB_STATE_DIR="$run/state-$r" GB_STAGING_DIR="$run/stage" GB_STAGING_LIMIT_GB=0 "$bin/gb-pack" <"$run/plan-$r.ndjson" >/dev/null
	rm -rf "${run:?}/stage"
	ln "$run/bag" "$run/staged-$n"
	{
		printf '{"kind":"packed","bag":"bag_000001","key":"ab/run-%d/bag_000001.tar.zst","file":"%s","bytes":%d,"sha256":"%s","manifest":"%s","manifest_key":"ab/run-%d/m.ndjson"}\n' \
			"$n" "$run/staged-$n" "$((put_mb * 1000000))" "$bag_sha" "$run/manifest.ndjson" "$n"
		printf '{"kind":"pack","status":"ok","bags":1,"bytes":%d}\n' "$((put_mb * 1000000))"
	} >"$run/packed-$n.ndjson"
	timed "put-$r" env "${s3env[@]}" GB_STATE_DIR="$run/state-$r" "$bin/gb-put" <"$run/packed-$n.ndjson" >/dev/null
	rm -rf "${run:?}/s3/gbab/ab"
}
say "warm-up: one untimed run of each"
one a; one b
: >"$results"
for ((i = 1; i <= reps; i++)); do
	say "run $i/$reps"
	if ((i % 2)); then one a; one b; else one b; one a; fi
done

# stats NAME: "median min max" of wall ms, and the median of CPU ms.
stats() {
	local w c
	w=$(awk -v n="$1" '$1 == n {print $2}' "$results" | sort -n)
	c=$(awk -v n="$1" '$1 == n {print $3}' "$results" | sort -n)
	echo "$(echo "$w" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)], a[1], a[NR]}') $(echo "$c" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
}
printf '%-6s %22s %22s %8s %8s\n' stage "A wall s (min-max)" "B wall s (min-max)" "B/A" "B/A cpu"
for s in scan pack put; do
	read -r am amin amax ac <<<"$(stats "$s-a")"
	read -r bm bmin bmax bc <<<"$(stats "$s-b")"
	awk -v s="$s" -v am="$am" -v amin="$amin" -v amax="$amax" -v ac="$ac" -v bm="$bm" -v bmin="$bmin" -v bmax="$bmax" -v bc="$bc" 'BEGIN {
		printf "%-6s %8.3f (%5.2f-%5.2f) %8.3f (%5.2f-%5.2f) %8.3f %8.3f\n", s, am/1000, amin/1000, amax/1000, bm/1000, bmin/1000, bmax/1000, bm/am, (ac ? bc/ac : 0)
	}'
done
echo "A = ${revs[0]}, B = ${revs[1]:-work tree}; $reps interleaved runs each; tree: $files files, $gb GB; put: one $put_mb MB bag"
