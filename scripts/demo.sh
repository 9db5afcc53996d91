#!/usr/bin/env bash
# demo.sh [DIR] — a real backup on the embedded local store, no AWS needed.
#
# Backs up DIR (default: a generated sample tree) as a ::MUTABLE source into
# a local store that behaves like Deep Archive, then extracts one bag with
# stock zstd and tar to show it holds the files. Everything goes under
# $GB_DEMO_DIR (default ./demo).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
demo=$(mkdir -p "${GB_DEMO_DIR:-demo}" && cd "${GB_DEMO_DIR:-demo}" && pwd)

# With GB_BIN set (as glacier.sh reads it), those binaries are used as they are.
[ -n "${GB_BIN:-}" ] || "$repo/scripts/build.sh"
if [ $# -ge 1 ]; then
	src=$(cd "$1" && pwd)
else
	src=$demo/sample
	if [ ! -d "$src" ]; then
		echo "demo.sh: generating a sample tree in $src" >&2
		(cd "$repo" && go run ./internal/tools/mktree "$src" 5000000)
	fi
fi
cat >"$demo/glacier.cfg" <<CFG
[settings]
dest = file://$demo/store
target_bag_gb = 0.004
staging_dir = stage
manifest_dir = manifests
inventory_file = inventory.json
inventory_bak_dir = invbak
CFG
printf '%s ::MUTABLE\n' "$src" >"$demo/list.txt"
cd "$demo"

echo "== dry run: what would be uploaded and what it costs" >&2
"$repo/scripts/glacier.sh" -c glacier.cfg list.txt >/dev/null
echo "== real run" >&2
# 0 done (nothing to do included: run it again), 3 done with warnings.
"$repo/scripts/glacier.sh" -c glacier.cfg list.txt --run >/dev/null || [ $? = 3 ]
echo "== the store (bags are DEEP_ARCHIVE, manifests and system files STANDARD):" >&2
(cd store && find . -path ./.gb -prune -o -type f -print | sort) >&2
first=$(cd store && ls -1 ./*-backup/*.tar* | head -1)
if ! command -v zstd >/dev/null || ! command -v tar >/dev/null; then
	echo "demo.sh: done; install zstd and GNU tar (apt-get install zstd tar) to open bags by hand" >&2
	exit 0
fi
rm -rf restore && mkdir restore
echo "== extracting $first with stock tools: zstd -dc | tar -x" >&2
zstd -dc "store/$first" | tar -xf - -C restore
echo "== restored into $demo/restore:" >&2
find restore -maxdepth 6 | head -20 >&2
echo "demo.sh: done; inventory: $demo/inventory.json, manifests: $demo/manifests/" >&2
