#!/usr/bin/env bash
# install-wasm.sh installs the toolchains the translator kits and their conformance test
# need: clang + wasi-libc (C), Debian's rustc with the wasm32 std (Rust), wabt (WAT
# fixtures) and AssemblyScript in a project-local node_modules. Idempotent; run as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

pkgs=(clang lld wasi-libc libclang-rt-14-dev-wasm32 rustc libstd-rust-dev-wasm32 wabt)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node and npm: Debian's packages unless a Node with npm is already there (NodeSource's
# nodejs bundles npm and conflicts with Debian's npm package).
command -v npm >/dev/null || missing+=(nodejs npm)
if ((${#missing[@]})); then
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# AssemblyScript lives in the kit's own node_modules, pinned by its package-lock.json.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
kit="$root/sdk/translator/assemblyscript"
if [[ ! -x "$kit/node_modules/.bin/asc" ]]; then
	(cd "$kit" && npm ci --no-audit --no-fund --loglevel=error)
fi
