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
#                                                          codes gb-find's: 0 found, 1 none, 4 could
#                                                          not search: not "nothing to do" here)
#
# Exit codes: 0 done, 1 a stage failed (gb-audit: the store and the
# inventory disagree, or another run holds the lock), 2 usage or
# configuration error, 3 done but some files were skipped or changed (see
# the warnings), 4 nothing to do: --run found nothing changed and prune deleted
# nothing.
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

# Every gb command appends its exit code and summary here (pkg/cli);
# glacier.sh reads the plan's line and copies the lot into --log.
stage_log=$(mktemp "${TMPDIR:-/tmp}/glacier-stages.XXXXXX")
trap 'rm -f "$stage_log"' EXIT
export GB_LOG_FILE=$stage_log

status=0
usage_error=no
check() { # check NAME CODE: 0 and 3 (warnings) go on, anything else stops
	case "$2" in
	0) ;;
	3) status=3 ;;
	2) echo "$prog: error: $1: usage or configuration error" >&2; usage_error=yes; failed=yes ;;
	*) echo "$prog: error: $1 failed (exit $2)" >&2; failed=yes ;;
	esac
}
failed=no
if [ "$run" = no ] && [ "$prune$audit$report" != nonono ]; then
	: # --prune, --audit or --report alone: no backup, only those below
elif [ "$run" = no ]; then
	echo "$prog: dry run: nothing is packed or uploaded (add --run to back up)" >&2
	set +e
	"${bin}gb-scan" "${cfg_args[@]}" "$list" | "${bin}gb-plan" "${cfg_args[@]}" ${plan_args[@]+"${plan_args[@]}"} | "${bin}gb-commit" "${cfg_args[@]}" --dry-run
	codes=("${PIPESTATUS[@]}")
	set -e
	check gb-scan "${codes[0]}"; check gb-plan "${codes[1]}"; check gb-commit "${codes[2]}"
else
	set +e
	"${bin}gb-scan" "${cfg_args[@]}" "$list" | "${bin}gb-plan" "${cfg_args[@]}" ${plan_args[@]+"${plan_args[@]}"} | "${bin}gb-pack" "${cfg_args[@]}" |
		"${bin}gb-put" "${cfg_args[@]}" | "${bin}gb-commit" "${cfg_args[@]}"
	codes=("${PIPESTATUS[@]}")
	set -e
	check gb-scan "${codes[0]}"; check gb-plan "${codes[1]}"; check gb-pack "${codes[2]}"
	check gb-put "${codes[3]}"; check gb-commit "${codes[4]}"
fi
if [ "$prune" = yes ]; then
	if [ "$run" = no ]; then
		set +e
		"${bin}gb-prune" "${cfg_args[@]}"
		code=$?
		set -e
		check gb-prune "$code"
	elif [ "$failed" = no ]; then
		# As the seed's `glacier.py --run && prune.py --delete`: only after
		# a run that did not fail (warnings do not stop it).
		set +e
		"${bin}gb-prune" "${cfg_args[@]}" --delete
		code=$?
		set -e
		check gb-prune "$code"
	else
		echo "$prog: the run failed; not pruning" >&2
	fi
fi
if [ "$audit" = yes ]; then
	set +e
	"${bin}gb-audit" "${cfg_args[@]}"
	code=$?
	set -e
	if [ "$code" = 1 ]; then
		echo "$prog: gb-audit found problems or failed (exit 1; see above)" >&2
		failed=yes
	else
		check gb-audit "$code"
	fi
fi
if [ "$report" = yes ]; then
	set +e
	"${bin}gb-report" "${cfg_args[@]}" --format text
	code=$?
	set -e
	check gb-report "$code"
fi
final=$status
if [ "$usage_error" = yes ]; then
	final=2
elif [ "$failed" = yes ]; then
	final=1
elif [ "$final" = 0 ] && [ "$run" = yes ] && grep -q ' gb-plan exit 0: nothing to do' "$stage_log" &&
	! grep -q ' gb-prune exit 0: .*deleted [1-9]' "$stage_log"; then
	final=4
fi
if [ -n "$log" ]; then
	if [ "$final" = 4 ]; then
		printf '%s glacier.sh exit 4: %s\n' "$(stamp)" "$(sed -n 's/^[^ ]* gb-plan exit 0: //p' "$stage_log")" >>"$log"
	else
		cat "$stage_log" >>"$log"
		printf '%s glacier.sh exit %s\n' "$(stamp)" "$final" >>"$log"
	fi
fi
if [ "$final" = 4 ]; then
	echo "$prog: nothing to do (exit 4)" >&2
fi
exit "$final"
