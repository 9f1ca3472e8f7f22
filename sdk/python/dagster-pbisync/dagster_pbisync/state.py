"""State-backed definitions: specs come from a cached `pbisync sync` result, so loading
a code location does not call Power BI; the cache is refreshed on demand
(`dagster-pbisync refresh-state`, or refresh=True)."""

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from dagster import AssetSpec, Definitions
from dagster._core.definitions.definitions_load_context import StateBackedDefinitionsLoader
from dagster._record import record
from dagster_shared.serdes import whitelist_for_serdes

from dagster_pbisync.runner import sync_specs
from dagster_pbisync.specs import (
    DagsterPbisyncTranslator,
    build_asset_specs,
    parse_specs,
)

STATE_KEY_PREFIX = "__pbisync"


@whitelist_for_serdes
@record
class PbisyncSpecsState:
    """A cached sync result: the specs file's content (JSON Lines) and where it came from."""

    pipeline: str
    source: Optional[str]  # noqa: UP045 (dagster's record checks need Optional)
    specs_jsonl: str


def default_state_path(pipeline: str | os.PathLike[str], source: str | None = None) -> Path:
    """Where the cached specs of a pipeline (and source) live: ``.pbisync/dagster/`` next to
    the pipeline file, pbisync's own state directory by default."""
    p = Path(pipeline).resolve()
    name = p.stem + (f".{re.sub(r'[^A-Za-z0-9_.-]+', '_', source)}" if source else "")
    return p.parent / ".pbisync" / "dagster" / f"{name}.specs.jsonl"


def refresh_state(
    pipeline: str | os.PathLike[str],
    *,
    source: str | None = None,
    state_path: str | os.PathLike[str] | None = None,
    pbisync: str | os.PathLike[str] | None = None,
) -> Path:
    """Runs `pbisync sync` and replaces the cached specs (only when the sync succeeded).
    Returns the cache's path."""
    path = Path(state_path) if state_path else default_state_path(pipeline, source)
    sync_specs(pipeline, path, source=source, pbisync=pbisync)
    return path


@dataclass
class PbisyncDefsLoader(StateBackedDefinitionsLoader[PbisyncSpecsState]):
    """Dagster's state-backed loader over pbisync's cached sync result: at code location
    initialization it reads the cache (running `pbisync sync` only when there is none, or
    when refresh is set); run workers reuse the state the code location was loaded with."""

    pipeline: str
    source: str | None
    translator: DagsterPbisyncTranslator
    include_data_sources: bool = False
    refresh: bool = False
    state_path: str | None = None
    pbisync: str | None = None

    @property
    def defs_key(self) -> str:
        return f"{STATE_KEY_PREFIX}/{Path(self.pipeline).resolve()}/{self.source or ''}"

    def fetch_state(self) -> PbisyncSpecsState:
        path = Path(self.state_path) if self.state_path else default_state_path(self.pipeline, self.source)
        if self.refresh or not path.is_file():
            refresh_state(self.pipeline, source=self.source, state_path=path, pbisync=self.pbisync)
        return PbisyncSpecsState(
            pipeline=str(Path(self.pipeline).resolve()),
            source=self.source,
            specs_jsonl=path.read_text(encoding="utf-8"),
        )

    def defs_from_state(self, state: PbisyncSpecsState) -> Definitions:
        return Definitions(assets=self.specs_from_state(state))

    def specs_from_state(self, state: PbisyncSpecsState) -> list[AssetSpec]:
        return build_asset_specs(
            parse_specs(state.specs_jsonl.splitlines(), origin=f"cached specs of {state.pipeline}"),
            self.translator,
            include_data_sources=self.include_data_sources,
        )


def load_pbisync_asset_specs(
    pipeline: str | os.PathLike[str],
    *,
    source: str | None = None,
    translator: DagsterPbisyncTranslator | None = None,
    include_data_sources: bool = False,
    refresh: bool = False,
    state_path: str | os.PathLike[str] | None = None,
    pbisync: str | os.PathLike[str] | None = None,
) -> list[AssetSpec]:
    """Returns the AssetSpecs of a pbisync pipeline's Power BI assets (dashboards, reports,
    semantic models; data sources too with include_data_sources), as its specs say, after
    pbisync's translators and then ``translator`` (a DagsterPbisyncTranslator).

    The specs come from the pipeline's cached sync result (``state_path``, by default
    ``.pbisync/dagster/<pipeline>.specs.jsonl`` next to the pipeline); `pbisync sync` runs when
    there is none or ``refresh`` is set. ``source`` limits the sync to one of the pipeline's
    sources."""
    loader = PbisyncDefsLoader(
        pipeline=str(pipeline),
        source=source,
        translator=translator or DagsterPbisyncTranslator(),
        include_data_sources=include_data_sources,
        refresh=refresh,
        state_path=str(state_path) if state_path else None,
        pbisync=str(pbisync) if pbisync else None,
    )
    return [a for a in loader.build_defs().assets or [] if isinstance(a, AssetSpec)]
