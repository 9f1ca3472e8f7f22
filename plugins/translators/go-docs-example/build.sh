#!/usr/bin/env bash
# build.sh builds the translator into docs_example.wasm (pbisync can also build it
# itself: `go_package: ./plugins/translators/go-docs-example` in the pipeline).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o "${1:-docs_example.wasm}" .
