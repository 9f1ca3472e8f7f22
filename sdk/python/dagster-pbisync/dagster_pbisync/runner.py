"""Running the pbisync binary: where it is, and `pbisync sync` into a specs file."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PBISYNC_BIN_ENV = "PBISYNC_BIN"


class PbisyncError(Exception):
    """pbisync could not be found or a pbisync command failed; the message says which and why."""


def find_pbisync(pbisync: str | os.PathLike[str] | None = None) -> str:
    """Returns the pbisync executable: ``pbisync`` if given, else ``$PBISYNC_BIN``, else
    ``pbisync`` on the PATH."""
    candidate = str(pbisync) if pbisync else os.environ.get(PBISYNC_BIN_ENV, "")
    if candidate:
        if not (os.path.isfile(candidate) and os.access(candidate, os.X_OK)):
            raise PbisyncError(f"pbisync executable {candidate!r} does not exist or is not executable")
        return candidate
    found = shutil.which("pbisync")
    if not found:
        raise PbisyncError(
            f"pbisync is not on the PATH; install it or set {PBISYNC_BIN_ENV} to its path "
            "(go build -o pbisync ./cmd/pbisync)"
        )
    return found


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def sync_specs(
    pipeline: str | os.PathLike[str],
    specs_out: str | os.PathLike[str],
    *,
    source: str | None = None,
    pbisync: str | os.PathLike[str] | None = None,
) -> None:
    """Runs ``pbisync sync`` on the pipeline and writes its final specs (translators
    applied) to ``specs_out`` as JSON Lines. ``specs_out`` is replaced only when the sync
    succeeded. Raises PbisyncError with pbisync's own error lines when it fails."""
    pipeline = Path(pipeline)
    if not pipeline.is_file():
        raise PbisyncError(f"pipeline file {str(pipeline)!r} does not exist")
    cmd = [find_pbisync(pbisync), "sync", "-f", str(pipeline), "--specs-out", str(specs_out)]
    if source:
        cmd += ["--source", source]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    # Exit status 3: the sync finished, but some assets had problems (each logged); the
    # specs are complete.
    if proc.returncode not in (0, 3):
        raise PbisyncError(f"pbisync sync -f {pipeline} failed (exit status {proc.returncode}):\n{_tail(proc.stderr)}")
