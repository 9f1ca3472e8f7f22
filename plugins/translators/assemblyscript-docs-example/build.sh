#!/usr/bin/env bash
# build.sh builds docs_example.wasm with the AssemblyScript compiler installed in the kit
# (cd sdk/translator/assemblyscript && npm ci, or .ci/install-wasm.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
asc=../../../sdk/translator/assemblyscript/node_modules/.bin/asc
[[ -x "$asc" ]] || { echo "AssemblyScript is not installed: run npm ci in sdk/translator/assemblyscript" >&2; exit 1; }
"$asc" docs_example.ts -O3 --runtime incremental -o "${1:-docs_example.wasm}"
