#!/usr/bin/env bash
# bench.sh — gb's benchmark harness: gb-scan against find, gb-pack against
# tar | zstd, on one generated tree, and gb-put against aws s3 cp, in one run.
#
#   scripts/bench.sh [--files N] [--gb G] [--dir DIR] [--keep] [--quick] [--no-put]
#
# Builds gb-scan, gb-plan, gb-pack and the tree generator into a temporary
# bin directory, generates (or reuses) a deterministic tree, then times
#   find DIR -printf '%s %T@ %p\n' >/dev/null     vs  gb-scan list.txt >/dev/null
#   tar -cf - DIR | zstd -1 -T0 > FILE            vs  gb-pack < plan.ndjson >/dev/null
# (and, for reference, tar | zstd with sha256sum of its input and output:
# the hashing gb-pack does for its manifests and the bag's checksum; and
# tar | zstd | dd oflag=direct: the archive written around the page cache,
# as gb-pack writes its bags)
# (plan.ndjson made beforehand by gb-scan | gb-plan, once per bag target),
# and uploads one staged bag (2 GB of random bytes) to versitygw on 127.0.0.1:
#   aws s3 cp bag s3://gbbench/...                vs  gb-put < packed.ndjson
# (gb-put once more with 8 parts in flight, for information).
# Every command gets one untimed warm-up run, then REPS timed runs
# interleaved with its peer; the table shows medians. Targets are reported
# as PASS/MISS; a MISS does not make the script fail.
#
# Needs bash, go, GNU coreutils, find and tar, zstd and GNU time
# (/usr/bin/time); for the upload comparison the AWS CLI v2 (Debian package
# awscli, installed with apt-get when missing and running as root; without
# it the upload section is skipped) and versitygw (go install'ed into the
# temporary bin directory when not found). Exit codes: 0 done (whatever
# PASS/MISS says), 1 failure, 2 usage error.
set -euo pipefail

prog=bench.sh
usage() {
	cat <<USAGE
usage: $prog [--files N] [--gb G] [--dir DIR] [--keep] [--quick] [--reps N] [--bags SMALL,LARGE] [--no-put]
  --files N           regular files in the generated tree (default 200000; --quick 20000)
  --gb G              content in GB, 10^9 bytes (default 2.2; --quick 0.2)
  --dir DIR           work directory; the tree in DIR/tree is kept and reused
                      when DIR/tree.marker shows the same parameters (else
                      regenerated); DIR/run (plans, bags, logs) is removed
                      (default: a new directory under \${TMPDIR:-/tmp}, removed at the end)
  --keep              keep the work directory (tree, plans, logs, results.tsv)
  --quick             smoke test: 20000 files, 0.2 GB, bag targets 0.025,4, a 200 MB upload
  --reps N            timed runs per command (default 5; the median is shown)
  --bags SMALL,LARGE  the two bag targets gb-pack is timed with, in GB
                      (default 0.25,4): peak RSS must not depend on them
  --no-put            skip the upload comparison (gb-put vs aws s3 cp on versitygw)
USAGE
}
die() { echo "$prog: error: $1" >&2; exit "${2:-1}"; }
say() { echo "$prog: $*" >&2; }

# ---------------------------------------------------------------- options
files= gb= dir= keep=no quick=no reps=5 bags= put=yes
while [ $# -gt 0 ]; do
	case "$1" in
	--files) [ $# -ge 2 ] || die "--files needs a number" 2; files=$2; shift 2 ;;
	--gb) [ $# -ge 2 ] || die "--gb needs a number" 2; gb=$2; shift 2 ;;
	--dir) [ $# -ge 2 ] || die "--dir needs a directory" 2; dir=$2; shift 2 ;;
	--reps) [ $# -ge 2 ] || die "--reps needs a number" 2; reps=$2; shift 2 ;;
	--bags) [ $# -ge 2 ] || die "--bags needs SMALL,LARGE" 2; bags=$2; shift 2 ;;
	--keep) keep=yes; shift ;;
	--quick) quick=yes; shift ;;
	--no-put) put=no; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; die "unknown argument $1" 2 ;;
	esac
done
if [ "$quick" = yes ]; then
	files=${files:-20000} gb=${gb:-0.2} bags=${bags:-0.025,4}
fi
files=${files:-200000} gb=${gb:-2.2} bags=${bags:-0.25,4}
# The staged bag gb-put and aws s3 cp upload: 2 GB (200 MB with --quick).
put_bytes=2000000000
if [ "$quick" = yes ]; then put_bytes=200000000; fi
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

# The upload peer is the AWS CLI v2 (Debian: awscli 2.9.19). Another aws on
# $PATH (say a pip-installed v1) is not used. Missing, it is installed with
# apt-get when possible; when that fails only the upload section is skipped.
aws_cli= aws_version= put_skipped=
find_aws() {
	local c v
	for c in /usr/bin/aws $(type -a -P aws 2>/dev/null || true); do
		[ -x "$c" ] || continue
		v=$(env AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null "$c" --version 2>&1) || continue
		if [[ $v == aws-cli/2.* ]]; then
			aws_cli=$c aws_version=${v%% *}
			return 0
		fi
	done
	return 1
}
if [ "$put" = yes ] && ! find_aws; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		say "put: the AWS CLI v2 is not installed; installing it: apt-get update; apt-get install -y awscli"
		apt_log=$(mktemp "${TMPDIR:-/tmp}/gb-bench-apt.XXXXXX")
		if { apt-get -o Acquire::Retries=1 -o Acquire::http::Timeout=30 update &&
			DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Retries=1 -o Acquire::http::Timeout=30 install -y awscli; } >"$apt_log" 2>&1 &&
			find_aws; then
			say "put: installed $aws_version"
		else
			put_skipped="awscli could not be installed (apt-get: $(grep -E '^(E|W):' "$apt_log" | tail -n 1 || true)); the upload comparison is skipped"
		fi
		rm -f "$apt_log"
	else
		put_skipped="the AWS CLI v2 is not installed (apt-get install -y awscli, as root); the upload comparison is skipped"
	fi
	if [ -n "$put_skipped" ]; then
		say "put: SKIPPED: $put_skipped"
		put=no
	fi
fi

# ------------------------------------------------------------ work dirs
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bytes_wanted=$(gb_to_bytes "$gb")
[ "$bytes_wanted" -gt 0 ] || die "--gb must be above 0" 2
bin= work= run= own_work=no vgw_pid=
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
# stop_versitygw: the S3 server the upload section started, by its pid.
stop_versitygw() {
	if [ -n "$vgw_pid" ]; then
		kill "$vgw_pid" 2>/dev/null || true
		wait "$vgw_pid" 2>/dev/null || true
		vgw_pid=
	fi
}
cleanup() {
	stop_versitygw
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
trap 'exit 130' INT
trap 'exit 143' TERM

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

# The upload section's tools, found before the long sections run: gb-put,
# and versitygw v1.8.0 ($PATH, then $(go env GOPATH)/bin, else go install
# into the bin directory).
vgw= vgw_version=
if [ "$put" = yes ]; then
	say "put: building gb-put into $bin"
	(cd "$repo" && go build -o "$bin/" ./cmd/gb-put) || die "go build of gb-put failed"
	vgw=$(type -P versitygw 2>/dev/null || true)
	if [ -z "$vgw" ] && [ -x "$(go env GOPATH)/bin/versitygw" ]; then vgw=$(go env GOPATH)/bin/versitygw; fi
	if [ -z "$vgw" ]; then
		say "put: versitygw not found; installing v1.8.0 into $bin (go install)"
		GOBIN=$bin go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 >"$run/logs/versitygw-install.log" 2>&1 ||
			die "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 failed: $(tail -n 3 "$run/logs/versitygw-install.log"); or use --no-put"
		vgw=$bin/versitygw
	fi
	vgw_version=$(go version -m "$vgw" 2>/dev/null | while read -r k m v _; do
		if [ "$k" = mod ] && [ "$m" = github.com/versity/versitygw ]; then echo "$v"; fi
	done)
	vgw_version=${vgw_version:-"version unknown"}
	[ "$vgw_version" = v1.8.0 ] || say "put: note: $vgw is versitygw $vgw_version, not the pinned v1.8.0"
fi

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
# The upload section, after the pack outputs are gone: the bag, one object
# on the server and its multipart parts while they are joined.
if [ "$put" = yes ] && [ "$avail" -lt $((3 * put_bytes + 500000000)) ]; then
	die "$(div "$avail" 1000000000 1) GB free in $work; the upload comparison needs about $(div $((3 * put_bytes + 500000000)) 1000000000 1) GB (or use --no-put)"
fi

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
# For reference: tar | zstd doing the hashing gb-pack does, a SHA-256 of
# the content (here of the whole tar stream; gb hashes each file) and of
# the archive written. Stock tools make no per-file hashes, so this is the
# closest pipeline that checks what it stores.
tar_zstd_sha=(bash -c 'set -o pipefail; tar -C "$1" -cf - "$2" | tee >(sha256sum >"$3.in.sha256") | zstd -1 -T0 -q | tee "$3" | sha256sum >"$3.sha256"; wait'
	_ "$(dirname "$tree")" "$(basename "$tree")")
# For reference: tar | zstd writing its archive with O_DIRECT, as gb-pack
# writes staged bags (docs/design.md, "Packing speed"); GNU dd writes the
# last, partial block through the cache.
tar_zstd_direct=(bash -c 'set -o pipefail; tar -C "$1" -cf - "$2" | zstd -1 -T0 -q | dd of="$3" bs=2M iflag=fullblock oflag=direct status=none'
	_ "$(dirname "$tree")" "$(basename "$tree")")
clear_stage() { rm -rf "${GB_STATE_DIR:?}/stage" "${GB_STATE_DIR:?}/manifests"; }
# The encrypted pair: the same tree tagged ::ENCRYPT, to one age public key.
tar_zstd_age=(bash -c 'set -o pipefail; tar -C "$1" -cf - "$2" | zstd -1 -T0 -q | age -R "$3" >"$4"'
	_ "$(dirname "$tree")" "$(basename "$tree")")

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
	timed tar-zstd-sha "${tar_zstd_sha[@]}" "$run/out/tree.tar.zst"
	rm -f "$run/out/tree.tar.zst" "$run/out/tree.tar.zst".*sha256
	timed tar-zstd-direct "${tar_zstd_direct[@]}" "$run/out/tree.tar.zst"
	rm -f "$run/out/tree.tar.zst"
done

# ------------------------------------------------------- encrypted pack
enc=no
if command -v age >/dev/null 2>&1 && command -v age-keygen >/dev/null 2>&1; then
	enc=yes
	age-keygen -o "$run/identity.txt" 2>/dev/null
	age-keygen -y "$run/identity.txt" >"$run/recipients.txt"
	echo "$tree ::MUTABLE ::ENCRYPT" >"$run/list-enc.txt"
	export GB_RECIPIENTS_FILE=$run/recipients.txt
	say "encrypted pack: planning with bag target $bag_large GB"
	env GB_TARGET_BAG_GB="$bag_large" "$bin/gb-scan" "$run/list-enc.txt" 2>>"$run/logs/gb-scan.err" |
		env GB_TARGET_BAG_GB="$bag_large" "$bin/gb-plan" >"$run/plan-enc.ndjson" 2>>"$run/logs/gb-plan.err" ||
		die "gb-scan | gb-plan (encrypted) failed; see $run/logs"
	clear_stage
	"$bin/gb-pack" <"$run/plan-enc.ndjson" >"$run/packed-enc.ndjson" 2>>"$run/logs/gb-pack.err" ||
		die "gb-pack (encrypted) failed; see $run/logs/gb-pack.err"
	# The warm-up proves the bags open with stock age.
	for f in "$GB_STATE_DIR"/stage/*.tar.zst.age; do
		age -d -i "$run/identity.txt" "$f" | zstd -dcq | tar -tf - >/dev/null || die "stock age | zstd | tar cannot open $f"
	done
	clear_stage
	for ((i = 1; i <= reps; i++)); do
		say "encrypted pack: timed run $i/$reps"
		timed tar-zstd-age "${tar_zstd_age[@]}" "$run/recipients.txt" "$run/out/tree.tar.zst.age"
		rm -f "$run/out/tree.tar.zst.age"
		timed gb-pack-enc env GB_TARGET_BAG_GB="$bag_large" "$bin/gb-pack" <"$run/plan-enc.ndjson" >/dev/null
		clear_stage
	done
	unset GB_RECIPIENTS_FILE
else
	say "encrypted pack: skipped (age and age-keygen not installed: apt-get install age)"
fi

# ------------------------------------------------------------------- put
# One staged bag of random bytes, uploaded to versitygw (posix backend, its
# data on the same disk) by aws s3 cp with the CLI's defaults and by gb-put
# fed one packed record. Every upload has a new key (gb-put never replaces
# an object); each is checked (gb-put: exit 0, one uploaded record with
# sent_bytes = size; both: the object's size by HEAD) and then deleted, so
# the server's disk holds one object at a time.
put_parallel=4
part_size=$(((put_bytes / 9000 + 1048575) / 1048576 * 1048576)) # as gb-put picks it
if [ "$part_size" -lt $((16 * 1048576)) ]; then part_size=$((16 * 1048576)); fi
if [ "$put" = yes ]; then
	pdir=$run/put
	mkdir -p "$pdir/s3" "$pdir/state"
	# Nothing may reach a non-loopback address: no proxies, no profile,
	# no instance metadata, only these credentials.
	for v in $(compgen -e); do
		if [[ $v == AWS_* || $v == [Hh][Tt][Tt][Pp]_[Pp][Rr][Oo][Xx][Yy] || $v == [Hh][Tt][Tt][Pp][Ss]_[Pp][Rr][Oo][Xx][Yy] || $v == [Aa][Ll][Ll]_[Pp][Rr][Oo][Xx][Yy] ]]; then
			unset "$v"
		fi
	done
	vgw_access=gbbenchaccess vgw_secret=gbbenchsecret0123456789
	s3vars=(AWS_ACCESS_KEY_ID=$vgw_access AWS_SECRET_ACCESS_KEY=$vgw_secret AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
		AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
		NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost)

	# A free port on 127.0.0.1, then wait until versitygw accepts connections.
	port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
	vgw_port=
	for attempt in 1 2 3 4 5; do
		p=$((20000 + RANDOM % 30000))
		if port_open "$p"; then continue; fi
		say "put: starting versitygw on 127.0.0.1:$p (data in $pdir/s3)"
		"$vgw" --access "$vgw_access" --secret "$vgw_secret" --port "127.0.0.1:$p" posix "$pdir/s3" \
			</dev/null >>"$run/logs/versitygw.log" 2>&1 &
		vgw_pid=$!
		for ((w = 0; w < 300; w++)); do
			if ! kill -0 "$vgw_pid" 2>/dev/null; then break; fi
			if port_open "$p"; then vgw_port=$p; break; fi
			sleep 0.1
		done
		if [ -n "$vgw_port" ]; then break; fi
		stop_versitygw
	done
	[ -n "$vgw_port" ] || die "versitygw did not start on 127.0.0.1; see $run/logs/versitygw.log"
	endpoint=http://127.0.0.1:$vgw_port
	awsc() { env "${s3vars[@]}" "$aws_cli" --endpoint-url "$endpoint" "$@" </dev/null; }
	awsc s3 mb s3://gbbench >>"$run/logs/aws.out" 2>>"$run/logs/aws.err" ||
		die "aws s3 mb s3://gbbench failed: $(tail -n 3 "$run/logs/aws.err")"
	gbvars=(GB_DEST=s3://gbbench GB_S3_ENDPOINT=$endpoint GB_STATE_DIR=$pdir/state)

	say "put: writing a $(div "$put_bytes" 1000000 0) MB bag of random bytes"
	bag=$pdir/bag
	head -c "$put_bytes" /dev/urandom >"$bag"
	[ "$(stat -c %s "$bag")" -eq "$put_bytes" ] || die "could not write $put_bytes bytes to $bag"
	bag_sha=$(sha256sum "$bag" | cut -d' ' -f1)
	manifest=$pdir/m.ndjson
	echo '{"kind":"manifest","bag":"bag_000001","note":"bench.sh upload comparison"}' >"$manifest"
	json_str() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }

	# object_size KEY: the stored object's size, by HEAD ("" when missing).
	object_size() {
		awsc s3api head-object --bucket gbbench --key "$1" --query ContentLength --output text 2>>"$run/logs/aws.err" || true
	}
	put_n=0
	# put_prepare: a new run number, a hard link of the bag as the staged
	# copy (gb-put deletes it) and the packed record naming it, then the
	# pack summary.
	put_prepare() {
		put_n=$((put_n + 1))
		staged=$pdir/staged-$put_n
		ln "$bag" "$staged"
		printf '{"kind":"packed","bag":"bag_000001","key":"bench/run-%d/bag_000001.tar.zst","file":%s,"bytes":%d,"sha256":"%s","manifest":%s,"manifest_key":"bench/run-%d/manifests/m.ndjson"}\n' \
			"$put_n" "$(json_str "$staged")" "$put_bytes" "$bag_sha" "$(json_str "$manifest")" "$put_n" >"$pdir/packed-$put_n.ndjson"
		# gb-pack's summary ends its output; gb-put wants it.
		printf '{"kind":"pack","status":"ok","bags":1,"bytes":%d}\n' "$put_bytes" >>"$pdir/packed-$put_n.ndjson"
	}
	# gb_put_check NAME: gb-put's output names one uploaded bag, all sent,
	# and the object is stored; then the run's objects are deleted.
	gb_put_check() {
		local out=$pdir/uploaded-$put_n.ndjson key=bench/run-$put_n/bag_000001.tar.zst n=0 l rec= size
		while IFS= read -r l; do
			if [[ $l == '{"kind":"uploaded"'* ]]; then n=$((n + 1)) rec=$l; fi
		done <"$out"
		[ "$n" -eq 1 ] || die "$1 (run $put_n) printed $n uploaded records, not 1; see $out and $run/logs/$1.err"
		[ "$(json_int sent_bytes "$rec")" -eq "$put_bytes" ] && [ "$(json_int bytes "$rec")" -eq "$put_bytes" ] ||
			die "$1 (run $put_n) says bytes $(json_int bytes "$rec"), sent_bytes $(json_int sent_bytes "$rec"); the bag is $put_bytes bytes"
		size=$(object_size "$key")
		[ "$size" = "$put_bytes" ] || die "after $1 (run $put_n), s3://gbbench/$key is '$size' bytes, not $put_bytes"
		[ ! -e "$staged" ] || die "$1 (run $put_n) left the staged copy $staged"
		awsc s3 rm --recursive --only-show-errors "s3://gbbench/bench/run-$put_n/" >>"$run/logs/aws.out" 2>>"$run/logs/aws.err" ||
			die "aws s3 rm failed: $(tail -n 3 "$run/logs/aws.err")"
	}
	aws_cp_check() {
		local key=peer/run-$put_n/bag size
		size=$(object_size "$key")
		[ "$size" = "$put_bytes" ] || die "after aws s3 cp (run $put_n), s3://gbbench/$key is '$size' bytes, not $put_bytes"
		awsc s3 rm --only-show-errors "s3://gbbench/$key" >>"$run/logs/aws.out" 2>>"$run/logs/aws.err" ||
			die "aws s3 rm failed: $(tail -n 3 "$run/logs/aws.err")"
	}

	say "put: warm-up runs (and checks)"
	put_n=$((put_n + 1))
	env "${s3vars[@]}" "$aws_cli" --endpoint-url "$endpoint" s3 cp "$bag" "s3://gbbench/peer/run-$put_n/bag" \
		</dev/null >>"$run/logs/aws-cp.out" 2>>"$run/logs/aws-cp.err" || die "aws s3 cp failed: $(tail -n 3 "$run/logs/aws-cp.err")"
	aws_cp_check
	for name in gb-put gb-put-8; do
		put_prepare
		par=()
		if [ "$name" = gb-put-8 ]; then par=(GB_S3_PARALLEL=8); fi
		env "${s3vars[@]}" "${gbvars[@]}" "${par[@]}" "$bin/gb-put" <"$pdir/packed-$put_n.ndjson" \
			>"$pdir/uploaded-$put_n.ndjson" 2>>"$run/logs/$name.err" || die "$name failed; see $run/logs/$name.err"
		gb_put_check "$name"
	done
	for ((i = 1; i <= reps; i++)); do
		say "put: timed run $i/$reps"
		put_n=$((put_n + 1))
		timed aws-cp env "${s3vars[@]}" "$aws_cli" --endpoint-url "$endpoint" s3 cp "$bag" "s3://gbbench/peer/run-$put_n/bag" \
			</dev/null >>"$run/logs/aws-cp.out"
		aws_cp_check
		put_prepare
		timed gb-put env "${s3vars[@]}" "${gbvars[@]}" "$bin/gb-put" <"$pdir/packed-$put_n.ndjson" >"$pdir/uploaded-$put_n.ndjson"
		gb_put_check gb-put
		put_prepare
		timed gb-put-8 env "${s3vars[@]}" "${gbvars[@]}" GB_S3_PARALLEL=8 "$bin/gb-put" <"$pdir/packed-$put_n.ndjson" >"$pdir/uploaded-$put_n.ndjson"
		gb_put_check gb-put-8
	done
	stop_versitygw
	rm -f "$bag"
fi

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
if [ "$put" = yes ]; then
	medians aws-cp; aws_ns=$m_ns
	medians gb-put; put_ns=$m_ns put_rss=$m_rss
fi

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
if [ "$put" = yes ]; then
	echo "         $aws_version ($aws_cli), versitygw $vgw_version ($vgw)"
fi
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
         peak RSS is that of its largest process. Both sides write their archives under $work:
         gb-pack with O_DIRECT (around the page cache), tar | zstd > FILE through it.
         scan: gb-scan list.txt >/dev/null with the default bag target (40 GB: no split points).
         pack: gb-pack <plan.ndjson >/dev/null, the plan made beforehand by gb-scan | gb-plan,
         staging limit off; staged bags and manifests deleted between runs, as is the tar.zst.
         speed = peer wall / gb wall (above 1: gb is faster); RSS = gb RSS / peer RSS.
METHOD
if [ "$put" = yes ]; then
	cat <<METHOD
         put: one $(div "$put_bytes" 1000000 0) MB file of random bytes under $work, uploaded to versitygw $vgw_version
         (posix backend, its data on the same disk) on 127.0.0.1, a new key every run; both sides read the
         same inode (gb-put a hard link as its staged bag, which it deletes). aws s3 cp with the CLI's
         defaults: multipart above 8 MiB, 8 MiB parts, 10 requests at once, progress output (to a file);
         it sends Content-MD5 and signs each part's SHA-256 (plain http). gb-put: one packed record,
         $(div "$part_size" 1048576 0) MiB parts (max(16 MiB, size/9000)), $put_parallel in flight (GB_S3_PARALLEL; the 8-part row is for
         information), a SHA-256 checksum per part, HEAD of the bucket, of the key before and after, then the manifest.
         Every object is checked by HEAD and deleted after its run (untimed). The server's own CPU and
         memory are not counted on either side; it shares the $(nproc) CPUs with the client.
METHOD
fi
echo
line "command" "wall s" "(min-max)" "throughput" "RSS MB" "CPU" "user s" "sys s" "speed" "RSS"
line "-------" "------" "---------" "----------" "------" "---" "------" "-----" "-----" "---"
row "find -printf" find "$tree_files" files
row "gb-scan" gb-scan "$tree_files" files find
row "tar | zstd -1 -T0" tar-zstd "$tree_bytes" bytes
row "gb-pack (bag $bag_small GB, $(plural "$bags_small" bag))" gb-pack-small "$tree_bytes" bytes tar-zstd
row "gb-pack (bag $bag_large GB, $(plural "$bags_large" bag))" gb-pack-large "$tree_bytes" bytes tar-zstd
row "tar | zstd + fsync (reference)" tar-zstd-fsync "$tree_bytes" bytes
row "tar | zstd + sha256sum x2 (ref.)" tar-zstd-sha "$tree_bytes" bytes
row "tar|zstd|dd oflag=direct (ref.)" tar-zstd-direct "$tree_bytes" bytes
if [ "$enc" = yes ]; then
	row "tar | zstd -1 -T0 | age" tar-zstd-age "$tree_bytes" bytes
	row "gb-pack ::ENCRYPT (bag $bag_large GB)" gb-pack-enc "$tree_bytes" bytes tar-zstd-age
fi
if [ "$put" = yes ]; then
	row "aws s3 cp" aws-cp "$put_bytes" bytes
	row "gb-put" gb-put "$put_bytes" bytes aws-cp
	row "gb-put (8 parts)" gb-put-8 "$put_bytes" bytes aws-cp
fi
echo
echo "archive size: tar.zst $(div "$tar_size" 1000000 1) MB ($(div "$tree_bytes" "$tar_size" 2)x);" \
	"gb bags $(div "$gb_size_small" 1000000 1) MB at bag $bag_small GB ($(div "$tree_bytes" "$gb_size_small" 2)x)," \
	"$(div "$gb_size_large" 1000000 1) MB at bag $bag_large GB ($(div "$tree_bytes" "$gb_size_large" 2)x)"
if [ "$find_ns" -lt 200000000 ] || [ "$scan_ns" -lt 200000000 ]; then
	echo "note: scan runs under 0.2 s are dominated by process start-up; use a bigger tree for real numbers"
fi
if [ "$put" = yes ] && { [ "$aws_ns" -lt 5000000000 ] || [ "$put_ns" -lt 5000000000 ]; }; then
	echo "note: put runs under 5 s weigh start-up (the AWS CLI's Python) heavily; the default 2 GB bag gives real numbers"
fi
echo
rss_max=$((small_rss > large_rss ? small_rss : large_rss))
echo "scan: gb-scan $(ratio "$find_ns" "$scan_ns")x find (target ≥1.25x) $(pass $((find_ns * 100 / scan_ns >= 125)))"
echo "pack: gb-pack $(ratio "$tar_ns" "$large_ns")x tar|zstd at bag $bag_large GB (target ≥1.00x) $(pass $((tar_ns * 100 / large_ns >= 100)))"
echo "pack: gb-pack $(ratio "$tar_ns" "$small_ns")x tar|zstd at bag $bag_small GB (target ≥1.00x) $(pass $((tar_ns * 100 / small_ns >= 100)))"
medians tar-zstd-sha; tarsha_ns=$m_ns
echo "pack (information): gb-pack $(ratio "$tarsha_ns" "$large_ns")x tar|zstd that also hashes its input and output with sha256sum, at bag $bag_large GB"
medians tar-zstd-direct; tardirect_ns=$m_ns
echo "pack (information): gb-pack $(ratio "$tardirect_ns" "$large_ns")x tar|zstd that also writes around the page cache (dd oflag=direct), at bag $bag_large GB"
# Independent of bag size: the bigger bag target may not need more than
# 1.25x the memory of the smaller one.
echo "pack RSS: gb-pack $(mb "$small_rss") MB at bag $bag_small GB, $(mb "$large_rss") MB at bag $bag_large GB," \
	"ratio $(ratio "$large_rss" "$small_rss")x (target ≤200 MB at both, ratio ≤1.25x)" \
	"$(pass $((rss_max * 1024 <= 200000000 && large_rss * 100 / small_rss <= 125)))"
if [ "$enc" = yes ]; then
	medians tar-zstd-age; tza_ns=$m_ns
	medians gb-pack-enc; enc_ns=$m_ns
	echo "pack, encrypted: gb-pack $(ratio "$tza_ns" "$enc_ns")x tar|zstd|age at bag $bag_large GB (same target as plain: ≥1.00x) $(pass $((tza_ns * 100 / enc_ns >= 100)))"
fi
if [ "$put" = yes ]; then
	# Memory: the parts in flight, one more being read, and 50 MB besides.
	put_rss_target=$(((put_parallel + 1) * part_size + 50000000))
	echo "put: gb-put $(ratio "$aws_ns" "$put_ns")x aws s3 cp (target ≥1.5x) $(pass $((aws_ns * 100 / put_ns >= 150)))"
	echo "put RSS: gb-put $(mb "$put_rss") MB (target ≤ ($put_parallel+1) × $(div "$part_size" 1048576 0) MiB part + 50 MB = $(div "$put_rss_target" 1000000 1) MB)" \
		"$(pass $((put_rss * 1024 <= put_rss_target)))"
elif [ -n "$put_skipped" ]; then
	echo "put: SKIPPED: $put_skipped"
fi
