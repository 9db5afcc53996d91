#!/usr/bin/env bash
# glacier.sh — the yearly gb job, as cron runs it.
#
#   scripts/glacier.sh [-c glacier.cfg] list.txt          dry run: scan, plan,
#                                                          inventory_dryrun.json
#   scripts/glacier.sh [-c glacier.cfg] list.txt --run    scan | plan | pack | put | commit
#   scripts/glacier.sh [-c glacier.cfg] list.txt --run --prune
#                                                          then gb-prune --delete, if the run
#                                                          did not fail (the seed's cron line)
#   scripts/glacier.sh [-c glacier.cfg] list.txt --prune  only list what prune would delete
#   scripts/glacier.sh [-c glacier.cfg] list.txt --audit  only gb-audit (after the run and
#                                                          prune when given with --run)
#   scripts/glacier.sh [-c glacier.cfg] list.txt --report only gb-report --format text (last,
#                                                          after anything else given)
#   scripts/glacier.sh [-c glacier.cfg] list.txt --reset-bag bag_000003 bag_000007 [--run]
#   scripts/glacier.sh [-c glacier.cfg] list.txt --reset-source /old/path [--run]
#   scripts/glacier.sh [-c glacier.cfg] list.txt --repack | --repack-underfilled PCT [--run]
#                                                          the seed's operations (gb-plan flags);
#                                                          add --allow-early where young bags retire
#   scripts/glacier.sh [-c glacier.cfg] --find NAME       which bag holds NAME: only gb-find NAME
#                                                          --format text (list.txt not needed; exit
#                                                          codes gb-find's: 0 found, 7 none, 3 not
#                                                          everything could be searched)
#
# Exit codes (README.md, "Exit codes"): 0 done, nothing to do included;
# 1 a stage failed, or another run holds the lock; 2 usage or configuration
# error (glacier.cfg, list.txt, a key file, the destination); 3 done, but
# something was skipped or changed (see the warnings; gb-audit: findings).
# With --detailed-exitcode, 4: --run found nothing changed and prune deleted
# nothing (as terraform's -detailed-exitcode).
#
# A failure is said once, by the stage where it happened (an error line and
# perhaps a hint); the stages after it fail quietly, and glacier.sh reads
# how each stage ended from the summary records at the end of the pipe.
#
# --log FILE appends dated lines: one per stage with its figures, or a
# single line when there was nothing to do.
# The gb-* programs are taken from $GB_BIN, else the repository's bin/
# (scripts/build.sh fills it), else $PATH. Nothing is built here.
set -Eeuo pipefail

prog=glacier.sh
usage() {
	cat >&2 <<USAGE
usage: $prog [-c glacier.cfg] [--run] [--prune] [--audit] [--limit MB/S] [--lock FILE] list.txt
  -c, --config FILE   glacier.cfg (default: ./glacier.cfg when present)
      --run           really pack and upload (default: dry run)
      --prune         with --run: then delete orphans free to delete (gb-prune --delete),
                      unless the run failed; alone: list them (gb-prune, a dry run)
      --audit         check the store against the inventory (gb-audit); alone: only that
      --report        print what the archive holds and costs (gb-report --format text), last
      --find NAME     which bag holds NAME (a name or glob; gb-find NAME --format text), only that
      --lock FILE     lock file (default: .glacier.lock beside list.txt)
      --limit MB/S    upload at most this many MB/s, all parts together
      --log FILE      append a dated line per stage (one line when nothing changed)
      --detailed-exitcode  exit 4 when --run changed nothing and prune deleted nothing
      --reset-source PATH        forget a source's atoms (a listed source is packed afresh)
      --reset-bag ID [ID...]     pack these bags' atoms again (small bags get consolidated)
      --repack                   pack everything again (pinned atoms excepted)
      --repack-underfilled PCT   pack again the atoms of bags under PCT% of target_bag_gb
      --allow-early              let those operations retire bags younger than 180 days
USAGE
}
die() {
	echo "$prog: error: $1" >&2
	if [ -n "${log:-}" ]; then printf '%s glacier.sh exit %s: %s\n' "$(stamp)" "${2:-1}" "$1" >>"$log" || true; fi
	exit "${2:-1}"
}
# The log's clock is gb's (GB_NOW in tests).
stamp() { if [ -n "${GB_NOW:-}" ]; then echo "$GB_NOW"; else date -u +%Y-%m-%dT%H:%M:%SZ; fi; }
log=${GB_LOG_FILE:-}

cfg_args=()
plan_args=()
run=no
prune=no
audit=no
report=no
detailed=no
find=
list=
lock=
while [ $# -gt 0 ]; do
	case "$1" in
	-c | --config) [ $# -ge 2 ] || { usage; exit 2; }; cfg_args=(-c "$2"); shift 2 ;;
	--config=*) cfg_args=(-c "${1#--config=}"); shift ;;
	--run) run=yes; shift ;;
	--prune) prune=yes; shift ;;
	--audit) audit=yes; shift ;;
	--report) report=yes; shift ;;
	--detailed-exitcode) detailed=yes; shift ;;
	--find) [ $# -ge 2 ] || { usage; exit 2; }; find=$2; shift 2 ;;
	--find=*) find=${1#--find=}; shift ;;
	--lock) [ $# -ge 2 ] || { usage; exit 2; }; lock=$2; shift 2 ;;
	--limit) [ $# -ge 2 ] || { usage; exit 2; }; export GB_LIMIT=$2; shift 2 ;;
	--limit=*) export GB_LIMIT=${1#--limit=}; shift ;;
	--log) [ $# -ge 2 ] || { usage; exit 2; }; log=$2; shift 2 ;;
	--log=*) log=${1#--log=}; shift ;;
	--reset-source) [ $# -ge 2 ] || { usage; exit 2; }; plan_args+=(--reset-source "$2"); shift 2 ;;
	--reset-bag)
		# Seed style: the ids follow the flag, one word each.
		shift
		n=0
		while [ $# -gt 0 ] && [[ $1 =~ ^bag_[0-9]+$ ]]; do plan_args+=(--reset-bag "$1"); shift; n=$((n + 1)); done
		[ "$n" -gt 0 ] || { echo "$prog: error: --reset-bag needs bag ids (bag_000042)" >&2; usage; exit 2; }
		;;
	--repack) plan_args+=(--repack); shift ;;
	--repack-underfilled) [ $# -ge 2 ] || { usage; exit 2; }; plan_args+=(--repack-underfilled "$2"); shift 2 ;;
	--allow-early) plan_args+=(--allow-early); shift ;;
	-h | --help) usage; exit 0 ;;
	-*) echo "$prog: error: unknown option $1" >&2; usage; exit 2 ;;
	*) [ -z "$list" ] || { echo "$prog: error: more than one list file" >&2; usage; exit 2; }; list=$1; shift ;;
	esac
done
[ -n "$list" ] || [ -n "$find" ] || { echo "$prog: error: no list.txt given" >&2; usage; exit 2; }
[ -z "$list" ] || [ -r "$list" ] || die "$list: cannot read the source list" 2

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -n "${GB_BIN:-}" ]; then
	bin=$GB_BIN/
elif [ -x "$here/../bin/gb-scan" ]; then
	bin=$here/../bin/
else
	bin=
fi
if [ -n "$find" ]; then
	# The seed's --find: where a file is, from the manifests; nothing else runs.
	command -v "${bin}gb-find" >/dev/null || die "${bin}gb-find not found; run scripts/build.sh or set GB_BIN" 1
	exec "${bin}gb-find" "${cfg_args[@]}" --format text -- "$find"
fi
stages=(gb-scan gb-plan gb-pack gb-put gb-commit)
[ "$prune" = no ] || stages+=(gb-prune)
[ "$audit" = no ] || stages+=(gb-audit)
[ "$report" = no ] || stages+=(gb-report)
for s in "${stages[@]}"; do
	command -v "${bin}$s" >/dev/null || die "${bin}$s not found; run scripts/build.sh or set GB_BIN" 1
done

# One run at a time: a second one (cron overlapping a long upload) leaves
# at once instead of queueing behind the first.
lock=${lock:-$(dirname "$list")/.glacier.lock}
exec 9>>"$lock" || die "cannot open lock file $lock"
if ! flock -n 9; then
	die "another glacier.sh run holds $lock; not starting a second one" 1
fi

# Every gb command appends its exit code and its last line here (pkg/cli);
# glacier.sh copies the lot into --log.
work=$(mktemp -d "${TMPDIR:-/tmp}/glacier.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage_log=$work/stages.log
export GB_LOG_FILE=$stage_log

# stage NAME ARG...: run one gb command of a pipe and note its exit code.
# Each stage ends its output with its summary record (status ok, warnings
# or failed, and why) and passes on those of the stages before it, so the
# pipe's output, kept in $work/records, says how every stage ended.
# Off a terminal (cron, a pipe) its stderr is kept for the end (see below).
# bash's own line for a killed stage is left out: the stage after it says so.
exec 3>&2
stage() {
	local code=0 err=/dev/fd/3
	[ -t 2 ] || err=$work/$1.err
	{ "${bin}$1" "${cfg_args[@]}" "${@:2}" 2>"$err" || code=$?; } 2>/dev/null
	echo "$code" >"$work/$1.exit"
}

# outcome NAME...: how the stages of the last pipe ended, from their
# summary records (from the exit code when a stage died before writing
# one). The stage that failed first said why, once; a stage that failed
# because of it, or whose reader went away (exit 141), says nothing, and
# neither does this. Only a last stage that died without a word is named.
status=0 failed=no usage_error=no ran=()
outcome() {
	local s kind line st code last=${!#}
	for s in "$@"; do
		ran+=("$s")
		case $s in gb-commit) kind=committed ;; *) kind=${s#gb-} ;; esac
		line=$(grep -m1 "^{\"kind\":\"$kind\"" "$work/records" || true)
		st=$(sed -n 's/.*"status":"\([a-z]*\)".*/\1/p' <<<"$line")
		code=$(cat "$work/$s.exit")
		[ "$code" != 2 ] || usage_error=yes
		case ${st:-$code} in
		ok | 0) ;;
		warnings | 3) status=3 ;;
		*) failed=yes
			if [ -z "$st" ] && [ "$s" = "$last" ] && [ "$code" != 2 ]; then
				echo "$prog: error: $s ended without its summary (exit $code)" >&2
			fi ;;
		esac
	done
}

# A mistake in glacier.cfg (or a gb-plan flag), or a destination that
# cannot be reached, is said once, here, before the pipe starts: not by
# every stage, nor after hours of packing. The destination is checked by a
# gb-put with nothing to store.
precheck() {
	local code=0 err
	err=$("$@" 2>&1 >/dev/null) || code=$?
	[ "$code" != 0 ] || return 0
	printf '%s\n' "$err" >&2
	if [ -n "$log" ]; then printf '%s glacier.sh exit %s: %s\n' "$(stamp)" "$code" "${err%%$'\n'*}" >>"$log"; fi
	exit "$code"
}
precheck env GB_CHECK_CONFIG=1 GB_LOG_FILE= "${bin}gb-plan" "${cfg_args[@]}" ${plan_args[@]+"${plan_args[@]}"} </dev/null
if [ "$run" = yes ]; then
	precheck env GB_LOG_FILE= "${bin}gb-put" "${cfg_args[@]}" <<<'{"kind":"pack","status":"ok"}'
fi

: >"$work/records"
if [ "$run" = no ] && [ "$prune$audit$report" != nonono ]; then
	: # --prune, --audit or --report alone: no backup, only those below
elif [ "$run" = no ]; then
	echo "$prog: dry run: nothing is packed or uploaded (add --run to back up)" >&2
	stage gb-scan "$list" | stage gb-plan ${plan_args[@]+"${plan_args[@]}"} | stage gb-commit --dry-run | tee "$work/records"
	outcome gb-scan gb-plan gb-commit
else
	stage gb-scan "$list" | stage gb-plan ${plan_args[@]+"${plan_args[@]}"} | stage gb-pack | stage gb-put | stage gb-commit | tee "$work/records"
	outcome gb-scan gb-plan gb-pack gb-put gb-commit
fi
nothing_changed=no
if [ "$run" = yes ] && grep -q '^{"kind":"plan",.*"nothing_to_do":true' "$work/records"; then
	nothing_changed=yes
fi
if [ "$prune" = yes ]; then
	if [ "$run" = no ]; then
		stage gb-prune | tee "$work/records"
		outcome gb-prune
	elif [ "$failed" = no ]; then
		# As the seed's `glacier.py --run && prune.py --delete`: only after
		# a run that did not fail (warnings do not stop it).
		stage gb-prune --delete | tee "$work/records"
		outcome gb-prune
		! grep -q '^{"kind":"deleted"' "$work/records" || nothing_changed=no
	else
		echo "$prog: the run failed; not pruning" >&2
	fi
fi
if [ "$audit" = yes ]; then
	stage gb-audit | tee "$work/records"
	outcome gb-audit
fi
if [ "$report" = yes ]; then
	stage gb-report --format text | tee "$work/records"
	outcome gb-report
fi
# Off a terminal the stages' lines come now: all of them, or, when the run
# failed, only those that say why (an error and its hint), so that cron
# mails the cause, not the figures of the stages that went well.
for s in ${ran[@]+"${ran[@]}"}; do
	[ -s "$work/$s.err" ] || continue
	if [ "$failed$usage_error" = nono ]; then
		cat "$work/$s.err" >&2
	else
		grep -E '^gb-[a-z]+: (error|hint): ' "$work/$s.err" >&2 || true
	fi
done
final=$status
if [ "$usage_error" = yes ]; then
	final=2
elif [ "$failed" = yes ]; then
	final=1
elif [ "$final" = 0 ] && [ "$nothing_changed" = yes ] && [ "$detailed" = yes ]; then
	final=4
fi
if [ -n "$log" ]; then
	if [ "$nothing_changed" = yes ] && [ "$final" = 0 ] || [ "$final" = 4 ]; then
		printf '%s glacier.sh exit %s: %s\n' "$(stamp)" "$final" "$(sed -n 's/^[^ ]* gb-plan exit 0: //p' "$stage_log")" >>"$log"
	else
		cat "$stage_log" >>"$log"
		printf '%s glacier.sh exit %s\n' "$(stamp)" "$final" >>"$log"
	fi
fi
exit "$final"
