#!/usr/bin/env bash
# completions.sh — writes bash, zsh and fish completion scripts for every
# gb command in bin/ (scripts/build.sh builds them).
#
#   scripts/completions.sh [DIR]    default DIR: ./completions
#
# Then: bash  cp DIR/bash/* ~/.local/share/bash-completion/completions/
#       zsh   fpath=(DIR/zsh $fpath) in ~/.zshrc, before compinit
#       fish  cp DIR/fish/* ~/.config/fish/completions/
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bin=${GB_BIN:-$here/../bin}
out=${1:-completions}
ls "$bin"/gb-* >/dev/null 2>&1 || { echo "completions.sh: no gb commands in $bin; run scripts/build.sh" >&2; exit 1; }
mkdir -p "$out/bash" "$out/zsh" "$out/fish"
for cmd in "$bin"/gb-*; do
	name=$(basename "$cmd")
	"$cmd" --completion bash >"$out/bash/$name"
	"$cmd" --completion zsh >"$out/zsh/_$name"
	"$cmd" --completion fish >"$out/fish/$name.fish"
done
echo "completions.sh: wrote bash, zsh and fish completions for $(ls "$bin"/gb-* | wc -l) commands to $out" >&2
