#!/usr/bin/env bash
# build.sh builds docs_example.wasm with Debian's rustc and its wasm32 std
# (.ci/install-wasm.sh); no Rust package registry is needed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
rustc="${RUSTC:-/usr/bin/rustc}"
out="${1:-docs_example.wasm}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
flags=(--edition 2021 --target wasm32-unknown-unknown -C opt-level=2 -C panic=abort)
"$rustc" "${flags[@]}" --crate-type rlib --crate-name pbisync_translator \
	-o "$tmp/libpbisync_translator.rlib" ../../../sdk/translator/rust/src/lib.rs
"$rustc" "${flags[@]}" --crate-type cdylib --crate-name docs_example -C strip=symbols \
	--extern pbisync_translator="$tmp/libpbisync_translator.rlib" -o "$out" docs_example.rs
