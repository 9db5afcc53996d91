#!/usr/bin/env bash
# Builds every gb command into bin/ (what scripts/glacier.sh uses).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
go build -o bin/ ./cmd/...
