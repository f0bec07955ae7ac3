#!/bin/sh
# Install Debian's valgrind, which `make bench` (benchmarks/state_of_art.py, scanner.py) uses
# to count instructions per message with callgrind. Without it that figure says "not measured".
set -eu
if command -v valgrind >/dev/null 2>&1; then
    echo "valgrind already installed: $(command -v valgrind)"
    exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y valgrind
