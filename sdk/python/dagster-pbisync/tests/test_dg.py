"""`dg utils refresh-defs-state`, Dagster's CLI command that refreshes the state of
state-backed components, on a dg project holding a PbisyncComponent."""

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import Emulator, write_pipeline

DEFINITIONS = """\
from pathlib import Path

import dagster as dg


@dg.definitions
def defs():
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
"""


def test_dg_refresh_defs_state(sample_emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "pbiproj"\nversion = "0.0.1"\n\n[tool.dg]\ndirectory_type = "project"\n\n'
        '[tool.dg.project]\nroot_module = "pbiproj"\n'
    )
    component_dir = tmp_path / "pbiproj" / "defs" / "powerbi"
    component_dir.mkdir(parents=True)
    (tmp_path / "pbiproj" / "__init__.py").write_text("")
    (tmp_path / "pbiproj" / "defs" / "__init__.py").write_text("")
    (tmp_path / "pbiproj" / "definitions.py").write_text(DEFINITIONS)
    write_pipeline(component_dir, sample_emulator)
    (component_dir / "defs.yaml").write_text(
        "type: dagster_pbisync.PbisyncComponent\nattributes:\n  pipeline: pipeline.yaml\n"
        "  enable_semantic_model_refresh: [Sales Model]\n"
    )
    dg = str(Path(sys.executable).parent / "dg")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}

    def run(*args: str) -> str:
        proc = subprocess.run([dg, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"dg {' '.join(args)}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
        return proc.stdout + proc.stderr

    out = run("utils", "refresh-defs-state")
    assert "refreshed successfully" in out, out
    states = list((tmp_path / "pbiproj" / "defs").rglob("state"))
    assert len(states) == 1 and states[0].stat().st_size > 0, states
    # the defs load from that state: the component's assets, Sales Model refreshable
    listing = run("list", "defs", "--json")
    assert "semantic_model/Sales_Model" in listing and "dashboard/" in listing
