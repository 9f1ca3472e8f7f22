#!/usr/bin/env bash
# test.sh runs every test: it first installs what the tests need that Go does not bring
# (the pinned Python packages of requirements-test.txt into .venv, and the packages under
# sdk/python), then runs the Go tests and the Python tests. The Go tests find the
# virtual environment through PBISYNC_PYTHON; outside CI, tests that need it skip when it is
# missing, in CI they fail.
set -euo pipefail
cd "$(dirname "$0")"
root="$PWD"

venv="$root/.venv"
if [[ ! -x "$venv/bin/python" ]]; then
	python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r requirements-test.txt
for pkg in sdk/python/*/; do
	[[ -f "$pkg/pyproject.toml" ]] || continue
	"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e "$pkg"
done
export PBISYNC_PYTHON="$venv/bin/python"

go test -timeout 30m ./...

for pkg in sdk/python/*/; do
	[[ -f "$pkg/pyproject.toml" ]] || continue
	(cd "$pkg" && "$venv/bin/python" -m pytest -q)
done
