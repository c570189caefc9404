#!/usr/bin/env bash
# What the browser tests need beside Python: Debian's Chromium and scorm-again from npm.
# Idempotent; downloads only from Debian's and npm's registries. Playwright (from the [dev]
# extra) drives /usr/bin/chromium directly: never `playwright install`.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/chromium ]; then
    echo "installing Debian's chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

locked_version() {  # the scorm-again version package-lock.json pins, and the one installed
    sed -n '/"node_modules\/scorm-again"/,/}/s/.*"version": "\([^"]*\)".*/\1/p' "$1" | head -n 1
}
if [ ! -f node_modules/scorm-again/dist/scorm12.js ] ||
    [ "$(locked_version package-lock.json)" != "$(locked_version node_modules/.package-lock.json)" ]; then
    if ! command -v npm >/dev/null; then
        echo "installing Debian's npm"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
    fi
    npm ci --no-audit --no-fund --loglevel=error
fi
