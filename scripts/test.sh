#!/usr/bin/env bash
# Runs every gb test: go vet, then the unit, store-conformance and
# end-to-end tests with the race detector. The end-to-end tests check bags
# with stock GNU tar, zstd, jq and age, and remote sources go through a real
# sshd and sshfs; this script installs them from Debian's packages when they
# are missing (as root, or with sudo).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

missing=()
for tool in tar:tar zstd:zstd jq:jq flock:util-linux age:age script:bsdutils zsh:zsh fish:fish \
	sshfs:sshfs fusermount:fuse3 ssh:openssh-client ssh-keygen:openssh-client; do
	command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
# A real sshd on 127.0.0.1 serves the remote-source tests (e2e/remote.txtar).
[ -x /usr/sbin/sshd ] || command -v sshd >/dev/null 2>&1 || missing+=(openssh-server)
if [ ${#missing[@]} -gt 0 ]; then
	echo "test.sh: installing ${missing[*]}" >&2
	sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# versitygw, a real S3 server for the S3 store's tests, pinned.
if ! command -v versitygw >/dev/null 2>&1 && [ ! -x "$(go env GOPATH)/bin/versitygw" ]; then
	echo "test.sh: installing versitygw v1.8.0 (go install)" >&2
	go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi

go vet ./...
# gb runs on Linux, amd64 and arm64 (README, "Platforms"): every one of them
# must build. A build only, no tests: quick once the build cache is warm.
for platform in linux/amd64 linux/arm64; do
	GOOS=${platform%/*} GOARCH=${platform#*/} CGO_ENABLED=0 go build ./...
done
# go test stops a package after 10 minutes by default; the e2e package
# under -race took 648 s on a loaded machine. 45 minutes leaves room and
# still ends well inside CI's 90.
go test -race -count=1 -timeout 45m "$@" ./...
# Fault injection exists only in builds tagged gbfault (the e2e tests build
# the commands so); the plain run above checked that it is off without it.
go vet -tags gbfault ./pkg/fault
go test -count=1 -timeout 45m -tags gbfault "$@" ./pkg/fault
# Without a C compiler gb packs with the pure-Go zstd encoder: check that
# build too, bags opened by stock zstd and tar included.
CGO_ENABLED=0 go vet ./pkg/bag
CGO_ENABLED=0 go test -count=1 -timeout 45m "$@" ./pkg/bag ./e2e
