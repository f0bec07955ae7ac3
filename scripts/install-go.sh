#!/bin/sh
# Install Debian's Go toolchain for the reference router in examples/go-router, which the
# target tests build and start. Without Go those tests are skipped, with the reason printed.
set -eu

if command -v go >/dev/null 2>&1; then
    echo "go already installed: $(go version)"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-go: no apt-get here; install Go yourself (the Go router tests skip without it)" >&2
    exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
$sudo apt-get update
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y golang-go
echo "go installed: $(go version)"
