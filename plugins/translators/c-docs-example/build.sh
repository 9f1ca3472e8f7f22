#!/usr/bin/env bash
# build.sh builds docs_example.wasm with clang and wasi-libc (.ci/install-wasm.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
clang --target=wasm32-wasi -O2 -mexec-model=reactor -Wall -Werror \
	-I ../../../sdk/translator/c -o "${1:-docs_example.wasm}" docs_example.c
