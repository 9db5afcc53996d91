#!/usr/bin/env bash
# bench.sh — gb's benchmark harness: gb-scan against find, gb-pack against
# tar | zstd, on one generated tree, in one run.
#
#   scripts/bench.sh [--files N] [--gb G] [--dir DIR] [--keep] [--quick]
#
# Builds gb-scan, gb-plan, gb-pack and the tree generator into a temporary
# bin directory, generates (or reuses) a deterministic tree, then times
#   find DIR -printf '%s %T@ %p\n' >/dev/null     vs  gb-scan list.txt >/dev/null
#   tar -cf - DIR | zstd -1 -T0 > FILE            vs  gb-pack < plan.ndjson >/dev/null
# (plan.ndjson made beforehand by gb-scan | gb-plan, once per bag target).
# Every command gets one untimed warm-up run, then REPS timed runs
# interleaved with its peer; the table shows medians. Targets are reported
# as PASS/MISS; a MISS does not make the script fail.
#
# Needs bash, go, GNU coreutils, find and tar, zstd and GNU time
# (/usr/bin/time). Exit codes: 0 done (whatever PASS/MISS says), 1 failure,
# 2 usage error.
set -euo pipefail

prog=bench.sh
usage() {
	cat <<USAGE
usage: $prog [--files N] [--gb G] [--dir DIR] [--keep] [--quick] [--reps N] [--bags SMALL,LARGE]
  --files N           regular files in the generated tree (default 200000; --quick 20000)
  --gb G              content in GB, 10^9 bytes (default 2.2; --quick 0.2)
  --dir DIR           work directory; the tree in DIR/tree is kept and reused
                      when DIR/tree.marker shows the same parameters (else
                      regenerated); DIR/run (plans, bags, logs) is removed
                      (default: a new directory under \${TMPDIR:-/tmp}, removed at the end)
  --keep              keep the work directory (tree, plans, logs, results.tsv)
  --quick             smoke test: 20000 files, 0.2 GB, bag targets 0.025,4
  --reps N            timed runs per command (default 3; the median is shown)
  --bags SMALL,LARGE  the two bag targets gb-pack is timed with, in GB
                      (default 0.25,4): peak RSS must not depend on them
USAGE
}
die() { echo "$prog: error: $1" >&2; exit "${2:-1}"; }
say() { echo "$prog: $*" >&2; }

# ---------------------------------------------------------------- options
files= gb= dir= keep=no quick=no reps=3 bags=
while [ $# -gt 0 ]; do
	case "$1" in
	--files) [ $# -ge 2 ] || die "--files needs a number" 2; files=$2; shift 2 ;;
	--gb) [ $# -ge 2 ] || die "--gb needs a number" 2; gb=$2; shift 2 ;;
	--dir) [ $# -ge 2 ] || die "--dir needs a directory" 2; dir=$2; shift 2 ;;
	--reps) [ $# -ge 2 ] || die "--reps needs a number" 2; reps=$2; shift 2 ;;
	--bags) [ $# -ge 2 ] || die "--bags needs SMALL,LARGE" 2; bags=$2; shift 2 ;;
	--keep) keep=yes; shift ;;
	--quick) quick=yes; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument $1" 2 ;;
	esac
done
if [ "$quick" = yes ]; then
	files=${files:-20000} gb=${gb:-0.2} bags=${bags:-0.025,4}
fi
files=${files:-200000} gb=${gb:-2.2} bags=${bags:-0.25,4}
[[ $files =~ ^[1-9][0-9]*$ ]] || die "--files must be a positive integer, not '$files'" 2
[[ $gb =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--gb must be a number such as 2.2, not '$gb'" 2
[[ $reps =~ ^[1-9][0-9]*$ ]] || die "--reps must be a positive integer, not '$reps'" 2
[[ $bags =~ ^([0-9]+(\.[0-9]+)?),([0-9]+(\.[0-9]+)?)$ ]] || die "--bags must look like 0.25,4, not '$bags'" 2
bag_small=${BASH_REMATCH[1]} bag_large=${BASH_REMATCH[3]}

# ------------------------------------------------------ arithmetic helpers
# Bash has only integers; values are kept as integers (ns, bytes, KiB) and
# shown with fixed decimals.

# gb_to_bytes G: "2.2" -> 2200000000
gb_to_bytes() {
	local int=${1%%.*} frac=
	[[ $1 == *.* ]] && frac=${1#*.}
	frac=${frac}000000000
	echo $((10#$int * 1000000000 + 10#${frac:0:9}))
}

# div X Y D: X/Y rounded to D decimals.
div() {
	local x=$1 y=$2 d=$3 scale=1 i q
	for ((i = 0; i < d; i++)); do scale=$((scale * 10)); done
	if [ "$y" -le 0 ]; then echo "n/a"; return; fi
	q=$(((x * scale * 2 + y) / (2 * y)))
	if [ "$d" -eq 0 ]; then echo "$q"; else printf '%d.%0*d\n' $((q / scale)) "$d" $((q % scale)); fi
}

# ratio X Y: X/Y with 2 decimals, rounded down, so a ratio shown as 1.25x
# is never really 1.249x.
ratio() { if [ "$2" -le 0 ]; then echo "n/a"; else div $(($1 * 100 / $2)) 100 2; fi; }

# group N: 1234567 -> 1,234,567
group() {
	local n=$1 out=
	while [ ${#n} -gt 3 ]; do out=,${n: -3}$out; n=${n:0:${#n}-3}; done
	echo "$n$out"
}

# median N...: the middle value (the lower middle for an even count).
median() { printf '%s\n' "$@" | sort -n | head -n $((($# + 1) / 2)) | tail -n 1; }

# --------------------------------------------------------- prerequisites
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found; $2"; }
need go "install Go (https://go.dev/dl/); the harness builds gb itself"
need zstd "install it: apt-get install -y zstd"
need tar "install GNU tar: apt-get install -y tar"
need find "install GNU find: apt-get install -y findutils"
[[ $(tar --version 2>/dev/null | head -n 1) == *"GNU tar"* ]] || die "tar is not GNU tar; install it: apt-get install -y tar"
[[ $(find --version 2>/dev/null | head -n 1) == *"GNU findutils"* ]] || die "find is not GNU find; install it: apt-get install -y findutils"
[ -x /usr/bin/time ] || die "/usr/bin/time not found; install GNU time: apt-get install -y time"
/usr/bin/time -f '%e %M' true >/dev/null 2>&1 || die "/usr/bin/time is not GNU time; install it: apt-get install -y time"
for t in date df sort head tail stat sync mktemp nproc sha256sum cut wc tr env uname; do
	need "$t" "install GNU coreutils: apt-get install -y coreutils"
done
[[ $(date +%N) =~ ^[0-9]{9}$ ]] || die "date +%N does not give nanoseconds; GNU coreutils date is needed"

# ------------------------------------------------------------ work dirs
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bytes_wanted=$(gb_to_bytes "$gb")
[ "$bytes_wanted" -gt 0 ] || die "--gb must be above 0" 2
bin= work= run= own_work=no
bin=$(mktemp -d "${TMPDIR:-/tmp}/gb-bench-bin.XXXXXX")
if [ -n "$dir" ]; then
	mkdir -p "$dir"
	work=$(cd "$dir" && pwd)
	own_work=no
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/gb-bench.XXXXXX")
	own_work=yes
fi
tree=$work/tree
marker=$work/tree.marker
run=$work/run
cleanup() {
	if [ -n "$bin" ]; then rm -rf "${bin:?}"; fi
	if [ -z "$work" ]; then
		return
	elif [ "$keep" = yes ]; then
		say "kept $work"
	elif [ "$own_work" = yes ]; then
		rm -rf "${work:?}"
	else
		rm -rf "${run:?}" # --dir: keep the tree for the next run
	fi
}
trap cleanup EXIT

# gb reads GB_* variables and ./glacier.cfg: start clean so a user's
# settings cannot change what is measured.
for v in $(compgen -e); do
	if [[ $v == GB_* ]]; then unset "$v"; fi
done
rm -rf "${run:?}"
mkdir -p "$run/logs" "$run/out"
cd "$run"

say "building gb-scan, gb-plan, gb-pack and gentree into $bin"
(cd "$repo" && go build -o "$bin/" ./cmd/gb-scan ./cmd/gb-plan ./cmd/gb-pack ./internal/tools/gentree) ||
	die "go build failed"

# --------------------------------------------------------------- the tree
# The marker names the parameters and a hash of the generator's source, so
# a changed generator regenerates the tree.
gen_hash=$(cat "$repo"/internal/gentree/*.go "$repo"/internal/tools/gentree/main.go | sha256sum | cut -c1-16)
want_marker="gentree files=$files bytes=$bytes_wanted seed=1 source=$gen_hash"
have_marker=
if [ -f "$marker" ]; then have_marker=$(head -n 1 "$marker"); fi
if [ -d "$tree" ] && [ "$have_marker" = "$want_marker" ]; then
	say "reusing the tree in $tree ($want_marker)"
else
	if [ -e "$tree" ] && [ -z "$have_marker" ]; then
		die "$tree exists but has no $marker, so it was not made by $prog; remove it or choose another --dir"
	fi
	avail=$(df -B1 --output=avail "$work" | tail -n 1 | tr -d ' ')
	# The tree, plus one set of bags and one tar.zst of at most its size.
	need_bytes=$((3 * bytes_wanted + 1000000000))
	[ "$avail" -ge "$need_bytes" ] ||
		die "$(div "$avail" 1000000000 1) GB free in $work, $(div "$need_bytes" 1000000000 1) GB needed; use --dir on a bigger disk or a smaller --gb"
	rm -rf "${tree:?}"
	echo "incomplete" >"$marker"
	say "generating $(group "$files") files, $gb GB in $tree"
	"$bin/gentree" -root "$tree" -files "$files" -gb "$gb" -seed 1 >"$run/gentree.json" || die "gentree failed"
	{ echo "$want_marker"; cat "$run/gentree.json"; } >"$marker"
fi
stats=$(tail -n 1 "$marker")
json_int() { # json_int FIELD LINE
	[[ $2 =~ \"$1\":([0-9]+) ]] && echo "${BASH_REMATCH[1]}" || echo 0
}
tree_files=$(json_int files "$stats")
tree_bytes=$(json_int bytes "$stats")
tree_dirs=$(json_int dirs "$stats")
avail=$(df -B1 --output=avail "$work" | tail -n 1 | tr -d ' ')
[ "$avail" -ge $((2 * tree_bytes + 500000000)) ] ||
	die "$(div "$avail" 1000000000 1) GB free in $work; the outputs need about $(div $((2 * tree_bytes)) 1000000000 1) GB"

mem_avail_kb=0
while read -r k v _; do
	if [ "$k" = MemAvailable: ]; then mem_avail_kb=$v; fi
done </proc/meminfo
cache_note="the tree fits in the page cache"
if [ $((tree_bytes / 1024 * 3)) -gt "$mem_avail_kb" ]; then
	cache_note="WARNING: the tree is over 1/3 of available memory; reads may hit the disk"
fi

list=$run/list.txt
echo "$tree ::MUTABLE" >"$list"
export GB_STATE_DIR=$run/state GB_STAGING_LIMIT_GB=0 GB_DEST=file://$run/store

# ---------------------------------------------------------------- timing
# timed NAME CMD...: one run of CMD (stdin/stdout as given by the caller)
# under GNU time, after a sync so the dirty pages of earlier runs are not
# written back during this one. Appends "NAME wall_ns rss_kb cpu_pct
# user_cs sys_cs" to results.tsv. Wall time comes from date (ns), the rest
# from GNU time.
results=$run/results.tsv
: >"$results"
timed() {
	local name=$1 t0 t1 rss cpu usr sys
	shift
	sync
	t0=$(date +%s%N)
	if ! /usr/bin/time -o "$run/time.out" -f '%e %M %P %U %S' "$@" 2>>"$run/logs/$name.err"; then
		die "$name failed: $(tail -n 3 "$run/logs/$name.err" "$run/time.out" 2>/dev/null)"
	fi
	t1=$(date +%s%N)
	read -r _ rss cpu usr sys <"$run/time.out"
	cpu=${cpu%\%}
	[[ $cpu =~ ^[0-9]+$ ]] || cpu=0
	echo "$name $((t1 - t0)) $rss $cpu ${usr/./} ${sys/./}" >>"$results"
	say "  $name: $(div $((t1 - t0)) 1000000000 3) s, peak RSS $(div $((rss * 1024)) 1000000 1) MB, CPU $cpu%"
}

# Medians of one command's timed runs: sets m_ns m_rss m_cpu m_usr m_sys m_n.
medians() {
	local name=$1 n ns rss cpu usr sys
	local -a a_ns=() a_rss=() a_cpu=() a_usr=() a_sys=()
	while read -r n ns rss cpu usr sys; do
		if [ "$n" = "$name" ]; then
			a_ns+=("$ns") a_rss+=("$rss") a_cpu+=("$cpu") a_usr+=("$((10#$usr))") a_sys+=("$((10#$sys))")
		fi
	done <"$results"
	m_n=${#a_ns[@]}
	[ "$m_n" -gt 0 ] || die "no timed runs of $name"
	m_ns=$(median "${a_ns[@]}") m_rss=$(median "${a_rss[@]}") m_cpu=$(median "${a_cpu[@]}")
	m_usr=$(median "${a_usr[@]}") m_sys=$(median "${a_sys[@]}")
	m_min=$(printf '%s\n' "${a_ns[@]}" | sort -n | head -n 1)
	m_max=$(printf '%s\n' "${a_ns[@]}" | sort -n | tail -n 1)
}

# The peer pack command, run by bash -c so GNU time sees the whole
# pipeline: tar_zstd OUT [sync].
tar_zstd=(bash -c 'set -o pipefail; tar -C "$1" -cf - "$2" | zstd -1 -T0 -q >"$3" && if [ "$4" = sync ]; then sync "$3"; fi'
	_ "$(dirname "$tree")" "$(basename "$tree")")
clear_stage() { rm -rf "${GB_STATE_DIR:?}/stage" "${GB_STATE_DIR:?}/manifests"; }

# ------------------------------------------------------------------ scan
say "scan: warm-up runs"
find_entries=$(find "$tree" -printf '%s %T@ %p\n' | wc -l)
"$bin/gb-scan" "$list" >"$run/scan.ndjson" 2>>"$run/logs/gb-scan.err" || die "gb-scan failed; see $run/logs/gb-scan.err"
scan_summary=$(tail -n 1 "$run/scan.ndjson")
scan_files=$(json_int files "$scan_summary")
scan_bytes=$(json_int bytes "$scan_summary")
[ "$scan_files" = "$tree_files" ] && [ "$scan_bytes" = "$tree_bytes" ] ||
	die "gb-scan saw $scan_files files, $scan_bytes bytes; the tree has $tree_files files, $tree_bytes bytes"
[ "$find_entries" -eq $((tree_files + tree_dirs + 1)) ] ||
	die "find listed $find_entries entries; the tree has $((tree_files + tree_dirs + 1))"
for ((i = 1; i <= reps; i++)); do
	say "scan: timed run $i/$reps"
	timed find find "$tree" -printf '%s %T@ %p\n' >/dev/null
	timed gb-scan "$bin/gb-scan" "$list" >/dev/null
done

# ------------------------------------------------------------------ pack
for t in "$bag_small" "$bag_large"; do
	say "pack: planning with bag target $t GB"
	env GB_TARGET_BAG_GB="$t" "$bin/gb-scan" "$list" 2>>"$run/logs/gb-scan.err" |
		env GB_TARGET_BAG_GB="$t" "$bin/gb-plan" >"$run/plan-$t.ndjson" 2>>"$run/logs/gb-plan.err" ||
		die "gb-scan | gb-plan failed; see $run/logs"
done
count_bags() {
	local n=0 l
	while IFS= read -r l; do [[ $l == *'"kind":"bag"'* ]] && n=$((n + 1)); done <"$1"
	echo "$n"
}
bags_small=$(count_bags "$run/plan-$bag_small.ndjson")
bags_large=$(count_bags "$run/plan-$bag_large.ndjson")

# Warm-ups double as checks that nothing was dropped: every content byte
# is in gb's bags, every entry in the tar.
say "pack: warm-up runs (and completeness checks)"
"${tar_zstd[@]}" "$run/out/tree.tar.zst" "" 2>>"$run/logs/tar.err" || die "tar | zstd failed; see $run/logs/tar.err"
tar_entries=$(zstd -dc "$run/out/tree.tar.zst" | tar -tf - | wc -l)
[ "$tar_entries" -eq "$find_entries" ] || die "the tar holds $tar_entries entries; the tree has $find_entries"
tar_size=$(stat -c %s "$run/out/tree.tar.zst")
rm -f "$run/out/tree.tar.zst"
for t in "$bag_small" "$bag_large"; do
	clear_stage
	env GB_TARGET_BAG_GB="$t" "$bin/gb-pack" <"$run/plan-$t.ndjson" >"$run/packed-$t.ndjson" 2>>"$run/logs/gb-pack.err" ||
		die "gb-pack failed or warned (exit $?); see $run/logs/gb-pack.err"
	content=0 packed=0
	while IFS= read -r l; do
		if [[ $l == '{"kind":"packed"'* ]]; then
			content=$((content + $(json_int content_bytes "$l")))
			packed=$((packed + $(json_int bytes "$l")))
		fi
	done <"$run/packed-$t.ndjson"
	[ "$content" -eq "$tree_bytes" ] || die "gb-pack (bag $t GB) packed $content content bytes; the tree has $tree_bytes"
	if [ "$t" = "$bag_small" ]; then gb_size_small=$packed; else gb_size_large=$packed; fi
done
clear_stage
for ((i = 1; i <= reps; i++)); do
	say "pack: timed run $i/$reps"
	timed tar-zstd "${tar_zstd[@]}" "$run/out/tree.tar.zst" ""
	rm -f "$run/out/tree.tar.zst"
	timed gb-pack-small env GB_TARGET_BAG_GB="$bag_small" "$bin/gb-pack" <"$run/plan-$bag_small.ndjson" >/dev/null
	clear_stage
	timed gb-pack-large env GB_TARGET_BAG_GB="$bag_large" "$bin/gb-pack" <"$run/plan-$bag_large.ndjson" >/dev/null
	clear_stage
	# For reference only: gb-pack fsyncs each bag, plain tar | zstd does not.
	timed tar-zstd-fsync "${tar_zstd[@]}" "$run/out/tree.tar.zst" sync
	rm -f "$run/out/tree.tar.zst"
done

# ----------------------------------------------------------------- report
mb() { div $(($1 * 1024)) 1000000 1; } # KiB -> MB
line() { printf '%-32s %7s %15s %16s %7s %5s %7s %7s %7s %6s\n' "$@"; }
row() { # row LABEL NAME UNIT-COUNT UNIT PEER-NAME
	local label=$1 name=$2 count=$3 unit=$4 peer=${5:-} tp speed=- rssr=-
	medians "$name"
	if [ "$unit" = files ]; then
		tp="$(group "$(div $((count * 1000000000)) "$m_ns" 0)") files/s"
	else
		tp="$(div $((count * 1000)) "$m_ns" 1) MB/s"
	fi
	local ns=$m_ns rss=$m_rss cpu=$m_cpu usr=$m_usr sys=$m_sys
	local range="$(div "$m_min" 1000000000 2)-$(div "$m_max" 1000000000 2)"
	if [ -n "$peer" ]; then
		medians "$peer"
		speed="$(ratio "$m_ns" "$ns")x"
		rssr="$(div "$rss" "$m_rss" 2)x"
	fi
	line "$label" "$(div "$ns" 1000000000 3)" "$range" "$tp" "$(mb "$rss")" "$cpu%" "$(div "$usr" 100 2)" "$(div "$sys" 100 2)" "$speed" "$rssr"
}
plural() { if [ "$1" = 1 ]; then echo "1 $2"; else echo "$1 ${2}s"; fi; }
pass() { if [ "$1" = 1 ]; then echo PASS; else echo MISS; fi; }

medians find; find_ns=$m_ns
medians gb-scan; scan_ns=$m_ns
medians tar-zstd; tar_ns=$m_ns
medians gb-pack-small; small_ns=$m_ns small_rss=$m_rss
medians gb-pack-large; large_ns=$m_ns large_rss=$m_rss

echo
echo "gb benchmark — $(date -u +%Y-%m-%dT%H:%M:%SZ), gb $(cd "$repo" && git describe --always --dirty 2>/dev/null || echo '?')"
cpu_model=?
while IFS=: read -r k v; do
	if [[ $k == "model name"* ]]; then cpu_model=${v# }; break; fi
done </proc/cpuinfo
zstd_version=$(zstd -V)
[[ $zstd_version =~ (v[0-9.]+) ]] && zstd_version=${BASH_REMATCH[1]}
echo "machine: $(nproc) CPUs ($cpu_model), $((mem_avail_kb / 1024 / 1024)) GB memory available, kernel $(uname -r)"
echo "tools:   $(go version | cut -d' ' -f3), $(find --version | head -n 1), $(tar --version | head -n 1), zstd $zstd_version"
echo "tree:    $tree: $(group "$tree_files") files, $(div "$tree_bytes" 1000000000 2) GB, in $(json_int atoms "$stats") atoms" \
	"(top-level dirs) + $(json_int loose "$stats") loose files, $(group "$tree_dirs") dirs"
echo "         sizes: $(group "$(json_int small "$stats")") under 16 KB, $(json_int medium "$stats") of 100 KB-10 MB," \
	"$(json_int large "$stats") of 50-200 MB; content: $(div "$(json_int text_bytes "$stats")" 1000000000 2) GB text-like," \
	"$(div "$(json_int random_bytes "$stats")" 1000000000 2) GB random"
cat <<METHOD
method:  every command ran once untimed as a warm-up, so both sides read from a warm page cache
         ($cache_note); then $reps timed runs each, interleaved with the peer,
         a sync before each run. The table shows medians and the range of wall times.
         Wall time from date (ns); peak RSS, CPU, user and sys from GNU time; a pipeline's
         peak RSS is that of its largest process. Both sides write their archives under $work.
         scan: gb-scan list.txt >/dev/null with the default bag target (40 GB: no split points).
         pack: gb-pack <plan.ndjson >/dev/null, the plan made beforehand by gb-scan | gb-plan,
         staging limit off; staged bags and manifests deleted between runs, as is the tar.zst.
         speed = peer wall / gb wall (above 1: gb is faster); RSS = gb RSS / peer RSS.
METHOD
echo
line "command" "wall s" "(min-max)" "throughput" "RSS MB" "CPU" "user s" "sys s" "speed" "RSS"
line "-------" "------" "---------" "----------" "------" "---" "------" "-----" "-----" "---"
row "find -printf" find "$tree_files" files
row "gb-scan" gb-scan "$tree_files" files find
row "tar | zstd -1 -T0" tar-zstd "$tree_bytes" bytes
row "gb-pack (bag $bag_small GB, $(plural "$bags_small" bag))" gb-pack-small "$tree_bytes" bytes tar-zstd
row "gb-pack (bag $bag_large GB, $(plural "$bags_large" bag))" gb-pack-large "$tree_bytes" bytes tar-zstd
row "tar | zstd + fsync (reference)" tar-zstd-fsync "$tree_bytes" bytes
echo
echo "archive size: tar.zst $(div "$tar_size" 1000000 1) MB ($(div "$tree_bytes" "$tar_size" 2)x);" \
	"gb bags $(div "$gb_size_small" 1000000 1) MB at bag $bag_small GB ($(div "$tree_bytes" "$gb_size_small" 2)x)," \
	"$(div "$gb_size_large" 1000000 1) MB at bag $bag_large GB ($(div "$tree_bytes" "$gb_size_large" 2)x)"
if [ "$find_ns" -lt 200000000 ] || [ "$scan_ns" -lt 200000000 ]; then
	echo "note: scan runs under 0.2 s are dominated by process start-up; use a bigger tree for real numbers"
fi
echo
rss_max=$((small_rss > large_rss ? small_rss : large_rss))
echo "scan: gb-scan $(ratio "$find_ns" "$scan_ns")x find (target ≥1.25x) $(pass $((find_ns * 100 / scan_ns >= 125)))"
echo "pack: gb-pack $(ratio "$tar_ns" "$large_ns")x tar|zstd at bag $bag_large GB (target ≥1.00x) $(pass $((tar_ns * 100 / large_ns >= 100)))"
echo "pack: gb-pack $(ratio "$tar_ns" "$small_ns")x tar|zstd at bag $bag_small GB (target ≥1.00x) $(pass $((tar_ns * 100 / small_ns >= 100)))"
# Independent of bag size: the bigger bag target may not need more than
# 1.25x the memory of the smaller one.
echo "pack RSS: gb-pack $(mb "$small_rss") MB at bag $bag_small GB, $(mb "$large_rss") MB at bag $bag_large GB," \
	"ratio $(ratio "$large_rss" "$small_rss")x (target ≤200 MB at both, ratio ≤1.25x)" \
	"$(pass $((rss_max * 1024 <= 200000000 && large_rss * 100 / small_rss <= 125)))"
