#!/usr/bin/env bash
# pgo.sh writes cmd/pbisync/default.pgo, the CPU profile that `go build` uses to optimize
# pbisync (profile-guided optimization, on by default for a main package's default.pgo):
# the merged CPU profiles of the processes of the full-sync benchmark (the sync, its jsonl
# sink plugin and the emulator are all this binary). Run it again when the hot paths change
# much: a stale profile still builds, it just helps less.
set -euo pipefail
cd "$(dirname "$0")"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
PBISYNC_PROFILE_DIR="$dir" go test . -run '^$' -bench FullSyncProcess -benchtime 3x -timeout 30m >&2
profiles=()
for p in "$dir"/cpu-*.prof; do
	# A process that was killed (the emulator, at the end) leaves no usable profile.
	if go tool pprof -raw "$p" >/dev/null 2>&1; then
		profiles+=("$p")
	fi
done
go tool pprof -proto "${profiles[@]}" >default.pgo 2>/dev/null
echo "default.pgo: ${#profiles[@]} profiles, $(wc -c <default.pgo) bytes" >&2
