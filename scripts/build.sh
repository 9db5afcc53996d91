#!/usr/bin/env bash
# Builds every gb command into bin/ (what scripts/glacier.sh uses). The
# version that --version prints is `git describe` of this checkout, or
# "dev" outside git.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
go build -ldflags "-X github.com/gbarchive/gb/pkg/cli.Version=$version" -o bin/ ./cmd/...
