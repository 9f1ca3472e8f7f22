"""`dagster-pbisync refresh-state`: refresh the cached sync result that
load_pbisync_asset_specs reads, so loading the code location needs no Power BI call."""

from __future__ import annotations

import argparse
import sys

from dagster_pbisync.runner import PbisyncError
from dagster_pbisync.state import refresh_state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dagster-pbisync", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    rs = sub.add_parser("refresh-state", help="run `pbisync sync` and replace the cached specs")
    rs.add_argument("-f", "--pipeline", default="pipeline.yaml", help="pipeline file (default pipeline.yaml)")
    rs.add_argument("--source", help="sync only this pipeline source")
    rs.add_argument(
        "--state-path", help="cache file (default .pbisync/dagster/<pipeline>.specs.jsonl next to the pipeline)"
    )
    rs.add_argument("--pbisync", help="pbisync executable (default $PBISYNC_BIN, else pbisync on the PATH)")
    args = parser.parse_args(argv)
    try:
        path = refresh_state(args.pipeline, source=args.source, state_path=args.state_path, pbisync=args.pbisync)
    except PbisyncError as e:
        print(f"dagster-pbisync: {e}", file=sys.stderr)
        return 1
    print(f"specs cached in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
