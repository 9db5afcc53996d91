#!/usr/bin/env bash
# bench-remote.sh — gb on a remote source (sshfs) against the peer a seed
# user would reach for, in one run, through a real sshd on 127.0.0.1:
#
#   ssh HOST find DIR -printf '%s %T@ %p\n'         vs  gb-scan (HOST:DIR over sshfs)
#   ssh HOST tar -cf - DIR | zstd -1 -T0 > FILE      vs  gb-scan | gb-plan | gb-pack (over sshfs)
#
#   scripts/bench-remote.sh [--files N] [--gb G] [--reps N] [--dir DIR] [--keep]
#
# Both sides pay ssh's encryption on the same two cores; gb also pays FUSE
# and SFTP's request round trips. Every command gets one untimed warm-up,
# then REPS timed runs interleaved with its peer; medians are shown.
# Needs what the tests need: sshfs, openssh-server and -client, GNU tar,
# zstd, GNU time. Exit codes: 0 done, 1 failure, 2 usage.
set -euo pipefail

prog=bench-remote.sh
die() { echo "$prog: error: $1" >&2; exit "${2:-1}"; }
say() { echo "$prog: $*" >&2; }

files=20000 gb=0.5 reps=3 dir= keep=no
while [ $# -gt 0 ]; do
	case "$1" in
	--files) files=${2:?}; shift 2 ;;
	--gb) gb=${2:?}; shift 2 ;;
	--reps) reps=${2:?}; shift 2 ;;
	--dir) dir=${2:?}; shift 2 ;;
	--keep) keep=yes; shift ;;
	-h | --help) sed -n '2,14p' "$0"; exit 0 ;;
	*) die "unknown argument $1 (see --help)" 2 ;;
	esac
done
for t in sshfs ssh tar zstd /usr/bin/time; do
	command -v "$t" >/dev/null || die "$t is missing (scripts/test.sh installs what the tests need)"
done

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "$dir" ]; then
	dir=$(mktemp -d "${TMPDIR:-/tmp}/gb-bench-remote.XXXXXX")
	[ "$keep" = yes ] || trap 'rm -rf "$dir"' EXIT
fi
mkdir -p "$dir"
bin=$dir/bin run=$dir/run tree=$dir/tree
rm -rf "$run" && mkdir -p "$run" "$bin"
say "building gb-scan, gb-plan, gb-pack, gentree and the test sshd into $bin"
(cd "$repo" && go build -o "$bin/" ./cmd/gb-scan ./cmd/gb-plan ./cmd/gb-pack ./internal/tools/gentree ./internal/tools/sshd) || die "go build failed"

marker="files=$files gb=$gb"
if [ "$(cat "$dir/tree.marker" 2>/dev/null)" != "$marker" ]; then
	rm -rf "$tree" "$dir/tree.marker"
	say "generating $files files, $gb GB in $tree"
	"$bin/gentree" -root "$tree" -files "$files" -gb "$gb" -seed 1 >/dev/null || die "gentree failed"
	echo "$marker" >"$dir/tree.marker"
fi
bytes=$(du -sb --apparent-size "$tree" | cut -f1)

# The server: a coprocess, stopped when this script ends.
coproc SSHD { exec "$bin/sshd" -dir "$dir/sshd"; }
read -r cfg <&"${SSHD[0]}" || die "the test sshd did not start"
ssh_cmd="ssh -F $cfg"
export GB_SSH_COMMAND=$ssh_cmd GB_PROGRESS=never
printf 'gbhost:%s ::MUTABLE\n' "$tree" >"$run/list.txt"
cat >"$run/glacier.cfg" <<EOF
[settings]
state_dir = $run/state
mnt_base = $run/mnt
target_bag_gb = 4
staging_limit_gb = 0
EOF

results=$run/results
: >"$results"
timed() { # timed NAME CMD...: appends "NAME ns rss_kb"
	local name=$1 t0 t1
	shift
	t0=$(date +%s%N)
	/usr/bin/time -o "$run/time.out" -f '%M' "$@" 2>>"$run/$name.err" || die "$name failed: $(tail -n 3 "$run/$name.err")"
	t1=$(date +%s%N)
	echo "$name $((t1 - t0)) $(tail -n 1 "$run/time.out")" >>"$results"
}
median() { printf '%s\n' "$@" | sort -n | head -n $((($# + 1) / 2)) | tail -n 1; }
med() { # med NAME FIELD(2 ns, 3 rss)
	local -a v=()
	while read -r n a b; do [ "$n" = "$1" ] && { [ "$2" = 2 ] && v+=("$a") || v+=("$b"); }; done <"$results"
	median "${v[@]}"
}

peer_find() { $ssh_cmd gbhost "find '$tree' -printf '%s %T@ %p\n'" >/dev/null; }
gb_scan() { "$bin/gb-scan" -c "$run/glacier.cfg" "$run/list.txt" >/dev/null; }
peer_tar() { $ssh_cmd gbhost "tar -cf - -C / '${tree#/}'" | zstd -q -1 -T0 >"$run/peer.tar.zst"; }
gb_pack() {
	rm -rf "$run/state/stage" "$run/state/manifests"
	"$bin/gb-scan" -c "$run/glacier.cfg" "$run/list.txt" | "$bin/gb-plan" -c "$run/glacier.cfg" |
		"$bin/gb-pack" -c "$run/glacier.cfg" >/dev/null
}
export -f peer_find gb_scan peer_tar gb_pack
export bin run tree ssh_cmd

say "warm-up"
for f in peer_find gb_scan peer_tar gb_pack; do bash -c "$f" 2>>"$run/warmup.err" || die "$f failed in warm-up: $(tail -n 3 "$run/warmup.err")"; done
for i in $(seq "$reps"); do
	say "rep $i of $reps"
	timed ssh-find bash -c peer_find
	timed gb-scan bash -c gb_scan
	timed ssh-tar-zstd bash -c peer_tar
	timed gb-scan-plan-pack bash -c gb_pack
done
bag=$(du -cb "$run"/state/stage/*.tar.zst | tail -n 1 | cut -f1)
peer=$(stat -c %s "$run/peer.tar.zst")

printf '\ngb on a remote source (sshfs) vs its peer over ssh — %s, %s files, %s bytes, sshd on 127.0.0.1, %s cores, median of %s\n' \
	"$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$files" "$bytes" "$(nproc)" "$reps"
printf '%-36s %10s %12s %10s\n' command wall throughput "peak RSS"
row() { # row LABEL NAME UNITS UNIT
	local ns rss
	ns=$(med "$2" 2) rss=$(med "$2" 3)
	printf '%-36s %9.2fs %8.1f %s %8.1fMB\n' "$1" "$(echo "$ns/1000000000" | bc -l)" "$(echo "$3*1000000000/$ns" | bc -l)" "$4" "$(echo "$rss/1024" | bc -l)"
}
row "ssh find -printf" ssh-find "$files" files/s
row "gb-scan (sshfs)" gb-scan "$files" files/s
row "ssh tar | zstd -1 -T0" ssh-tar-zstd "$((bytes / 1000000))" MB/s
row "gb-scan | gb-plan | gb-pack (sshfs)" gb-scan-plan-pack "$((bytes / 1000000))" MB/s
printf 'scan: gb-scan %.2fx ssh find; pack: gb %.2fx ssh tar | zstd; sizes: bags %s B, tar.zst %s B\n' \
	"$(echo "$(med ssh-find 2)/$(med gb-scan 2)" | bc -l)" "$(echo "$(med ssh-tar-zstd 2)/$(med gb-scan-plan-pack 2)" | bc -l)" "$bag" "$peer"
