"""Fixtures: a pbisync binary built from this checkout, and `pbisync emulate` processes
(the Power BI emulator on 127.0.0.1) that dagster-powerbi and pbisync both read from."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[4]


@pytest.fixture(scope="session")
def pbisync_bin(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Builds cmd/pbisync into a temporary directory once per session."""
    out = tmp_path_factory.mktemp("bin") / "pbisync"
    subprocess.run(["go", "build", "-o", str(out), "./cmd/pbisync"], cwd=REPO, check=True)
    os.environ["PBISYNC_BIN"] = str(out)
    return str(out)


@dataclass
class Emulator:
    proc: subprocess.Popen[str]
    api_url: str
    api_token: str

    def get(self, path: str) -> dict:
        r = requests.get(self.api_url + path, headers={"Authorization": f"Bearer {self.api_token}"}, timeout=30)
        r.raise_for_status()
        return r.json()

    def workspace_ids(self) -> list[str]:
        return [g["id"] for g in self.get("/groups")["value"]]

    def scan(self, workspace_id: str) -> dict:
        """The admin scanner's result for one workspace, as dagster-powerbi asks for it."""
        h = {"Authorization": f"Bearer {self.api_token}"}
        params = "lineage=true&datasourceDetails=true&datasetSchema=true&datasetExpressions=true"
        r = requests.post(
            f"{self.api_url}/admin/workspaces/getInfo?{params}",
            json={"workspaces": [workspace_id]},
            headers=h,
            timeout=30,
        )
        r.raise_for_status()
        scan_id = r.json()["id"]
        deadline = time.monotonic() + 30
        while self.get(f"/admin/workspaces/scanStatus/{scan_id}")["status"] != "Succeeded":
            if time.monotonic() > deadline:
                raise RuntimeError(f"scan {scan_id} did not succeed")
            time.sleep(0.1)
        return self.get(f"/admin/workspaces/scanResult/{scan_id}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_emulator(pbisync: str, *args: str) -> Emulator:
    """Starts `pbisync emulate ARGS` and waits for the settings it prints."""
    proc = subprocess.Popen(
        [pbisync, "emulate", "--log-format", "json", *args],
        stdout=subprocess.PIPE,
        stderr=sys.stderr,
        text=True,
    )
    assert proc.stdout is not None
    api_url = token = ""
    deadline = time.monotonic() + 60
    while not (api_url and token):
        line = proc.stdout.readline()
        if not line:
            proc.wait()
            raise RuntimeError(
                f"pbisync emulate {' '.join(args)} exited with {proc.returncode} before printing its settings"
            )
        if m := re.match(r"\s*api_url:\s+(\S+)", line):
            api_url = m.group(1)
        if m := re.match(r"\s*api_token:\s+(\S+)", line):
            token = m.group(1)
        if time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("pbisync emulate printed no api_url and api_token")
    # drain the rest of the printout so the emulator never blocks on a full pipe
    import threading

    threading.Thread(target=lambda: [None for _ in proc.stdout or []], daemon=True).start()
    return Emulator(proc=proc, api_url=api_url, api_token=token)


@pytest.fixture(scope="session")
def sample_emulator(pbisync_bin: str) -> Iterator[Emulator]:
    emu = start_emulator(pbisync_bin, "--tenant", "sample")
    yield emu
    emu.stop()


@pytest.fixture(scope="session")
def generated_emulator(pbisync_bin: str) -> Iterator[Emulator]:
    emu = start_emulator(pbisync_bin, "--tenant", "generated", "--workspaces", "3", "--seed", "7")
    yield emu
    emu.stop()


def write_pipeline(
    directory: Path,
    emu: Emulator,
    *,
    workspace_ids: list[str] | None = None,
    scanner: bool = True,
    extra: str = "",
    name: str = "pipeline.yaml",
) -> Path:
    """A pipeline whose one source reads the emulator with its static token."""
    ws = ""
    if workspace_ids is not None:
        ids = ", ".join(f'"{w}"' for w in workspace_ids)
        ws = f"      workspaces: {{ids: [{ids}], discover: none}}\n"
    text = (
        "version: 1\n"
        "state_dir: .pbisync\n"
        "sources:\n"
        "  - name: emulator\n"
        "    powerbi:\n"
        f"      api_url: {emu.api_url}\n"
        f'      credentials: {{token: "{emu.api_token}"}}\n'
        f"      scanner: {{enabled: {'true' if scanner else 'false'}, poll_interval: 100ms}}\n"
        f"{ws}"
        "outputs:\n"
        "  - name: events\n"
        "    jsonl: {path: out/events.jsonl}\n"
        "refresh: {poll: {initial: 200ms, factor: 1.5, max: 1s}}\n"
        f"{extra}"
    )
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path
