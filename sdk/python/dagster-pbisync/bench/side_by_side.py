"""Side-by-side figures: one generated tenant of N workspaces (default 100) read into
Dagster asset specs by dagster-powerbi (one PowerBIWorkspace per workspace, as its docs
require) and by dagster-pbisync (one pipeline), in one run. Reports the wall time to
specs and the API requests the emulator answered, with the ratios.

    python bench/side_by_side.py [--workspaces 100] [--pbisync PATH]

Each side gets its own `pbisync emulate` (same seed, so the same tenant) whose request
count is read from its own log when it stops."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dagster_powerbi.resource as powerbi_resource  # noqa: E402
from dagster_powerbi import PowerBIToken, PowerBIWorkspace, load_powerbi_asset_specs  # noqa: E402

from dagster_pbisync import load_pbisync_asset_specs  # noqa: E402
from tests.conftest import REPO, start_emulator, write_pipeline  # noqa: E402


def emulator_requests(log: Path) -> int:
    for line in reversed(log.read_text().splitlines()):
        if '"emulator stopping"' in line:
            return int(json.loads(line)["requests"])
    raise RuntimeError(f"no request count in {log}")


def measure(pbisync: str, workspaces: int, side: str, scanner: bool, work: Path) -> tuple[float, int, int, int]:
    log = work / f"{side}-{scanner}.log"
    with log.open("w") as err:
        sys_stderr = sys.stderr
        sys.stderr = err  # the emulator's log goes here (start_emulator passes sys.stderr)
        try:
            emu = start_emulator(pbisync, "--tenant", "generated", "--workspaces", str(workspaces), "--seed", "1")
        finally:
            sys.stderr = sys_stderr
    try:
        ids = emu.workspace_ids()
        failed = 0
        start = time.perf_counter()
        if side == "dagster-powerbi":
            powerbi_resource.BASE_API_URL = emu.api_url
            specs = []
            for ws in ids:
                resource = PowerBIWorkspace(credentials=PowerBIToken(api_token=emu.api_token), workspace_id=ws)
                try:
                    specs += load_powerbi_asset_specs(resource, use_workspace_scan=scanner)
                except KeyError:
                    # its KeyError defects (tiles of other workspaces, data sources without
                    # connectionDetails): the workspace was read, its specs are lost
                    failed += 1
        else:
            d = work / f"pbisync-{scanner}"
            d.mkdir()
            pipeline = write_pipeline(d, emu, scanner=scanner)
            specs = load_pbisync_asset_specs(pipeline, refresh=True)
        elapsed = time.perf_counter() - start
    finally:
        emu.stop()
    # the workspace listing above is one request on each side; leave it out
    return elapsed, emulator_requests(log) - 1, len(specs), failed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workspaces", type=int, default=100)
    ap.add_argument("--pbisync")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pbisync = args.pbisync or str(work / "pbisync")
        if not args.pbisync:
            subprocess.run(["go", "build", "-o", pbisync, "./cmd/pbisync"], cwd=REPO, check=True)
        os.environ["PBISYNC_BIN"] = pbisync
        print(f"generated tenant, {args.workspaces} workspaces (seed 1)")
        print(f"{'path':<9} {'side':<16} {'wall s':>8} {'requests':>9} {'specs':>6} {'failed workspaces':>18}")
        for scanner in (True, False):
            path = "scanner" if scanner else "regular"
            t_p, r_p, n_p, f_p = measure(pbisync, args.workspaces, "dagster-powerbi", scanner, work)
            t_o, r_o, n_o, f_o = measure(pbisync, args.workspaces, "dagster-pbisync", scanner, work)
            print(f"{path:<9} {'dagster-powerbi':<16} {t_p:8.2f} {r_p:9d} {n_p:6d} {f_p:18d}")
            print(f"{path:<9} {'dagster-pbisync':<16} {t_o:8.2f} {r_o:9d} {n_o:6d} {f_o:18d}")
            print(f"{path:<9} {'ratio':<16} {t_p / t_o:7.1f}x {r_p / max(r_o, 1):8.1f}x")


if __name__ == "__main__":
    main()
