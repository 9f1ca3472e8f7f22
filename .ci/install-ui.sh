#!/usr/bin/env bash
# install-ui.sh installs what the estate UI's browser test needs: Debian's Chromium (driven
# headless by playwright-core), and ui/node_modules pinned by ui/package-lock.json; then it
# checks that the vendored graph libraries embedded in the binary match a rebuild from that
# lock file. Idempotent; run as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

missing=()
dpkg-query -W -f='${Status}' chromium 2>/dev/null | grep -q "install ok installed" || missing+=(chromium)
command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cd "$root/ui"
if [[ ! -d node_modules/playwright-core || package-lock.json -nt node_modules/.package-lock.json ]]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
node build.mjs --check
