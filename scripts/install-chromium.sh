#!/bin/sh
# Install Debian's chromium for the HTML report test (tests/integration/test_html_chromium.py)
# when no Chromium is on PATH. Without it that test is skipped, with the reason printed.
set -eu

for name in chromium chromium-browser; do
    if command -v "$name" >/dev/null 2>&1; then
        echo "chromium already installed: $(command -v "$name")"
        exit 0
    fi
done

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-chromium: no apt-get here; install Chromium yourself (the report test skips without it)" >&2
    exit 1
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
$sudo apt-get update
# fonts-dejavu-core: readable text in the report's screenshot
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium fonts-dejavu-core
echo "chromium installed: $(command -v chromium)"
