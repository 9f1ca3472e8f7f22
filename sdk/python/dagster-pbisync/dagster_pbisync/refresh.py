"""Executable assets that refresh semantic models by running `pbisync refresh` under
Dagster Pipes: pbisync follows each refresh it started (by request id) and reports one
materialization per model with the refresh's metadata; a refresh that does not complete
fails the step with the service's error text."""

import os
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    Failure,
    MaterializeResult,
    MetadataValue,
    PipesTempFileContextInjector,
    PipesTempFileMessageReader,
    multi_asset,
    open_pipes_session,
)

from dagster_pbisync.runner import PbisyncError, find_pbisync
from dagster_pbisync.specs import is_semantic_model, semantic_model_id

# The extras entry pbisync reads (core/pipes.ExtrasModels): model id -> Dagster asset key.
EXTRAS_MODELS = "pbisync_models"
# The custom message pbisync sends for a refresh that did not complete.
FAILURE_MESSAGE = "pbisync_refresh"


@dataclass
class PbisyncRefreshInvocation:
    """What one `pbisync refresh` reported: materializations of the models whose refresh
    completed, and the refreshes that did not complete."""

    results: list[MaterializeResult]
    failures: list[Mapping[str, Any]] = field(default_factory=list)
    returncode: int = 0
    stderr: str = ""
    # the models asked for that pbisync reported neither done nor failed
    unreported: list[AssetKey] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.returncode != 0 or bool(self.failures) or bool(self.unreported)

    def error_text(self) -> str:
        if self.unreported and not self.failures and self.returncode == 0:
            return "pbisync reported no refresh for " + ", ".join(k.to_user_string() for k in self.unreported)
        if self.failures:
            return "\n".join(
                f"semantic model {f.get('model_name')!r} ({f.get('model_id')}): refresh {f.get('state')}"
                + (f": {f['error']}" if f.get("error") else "")
                + (f" (request {f['request_id']})" if f.get("request_id") else "")
                for f in self.failures
            )
        # pbisync failed before it could report refreshes (a bad pipeline, say): its own
        # error lines say why
        quiet = ("level=INFO", "level=DEBUG", "level=WARN", '"level":"INFO"', '"level":"DEBUG"', '"level":"WARN"')
        lines = [ln for ln in self.stderr.strip().splitlines() if not any(q in ln for q in quiet)]
        return "\n".join(lines[-10:]) or f"exit status {self.returncode}"

    def raise_for_failure(self) -> None:
        """Raises dagster.Failure naming every refresh that did not complete, with the
        service's error text."""
        if self.failed:
            raise Failure(
                description=f"pbisync refresh did not complete:\n{self.error_text()}",
                metadata={
                    "pbisync/failed_refreshes": MetadataValue.json([dict(f) for f in self.failures]),
                    "pbisync/exit_status": self.returncode,
                },
            )


def run_pbisync_refresh(
    context: AssetExecutionContext,
    *,
    pipeline: str | os.PathLike[str],
    models: Mapping[AssetKey, str],
    pbisync: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> PbisyncRefreshInvocation:
    """Runs `pbisync refresh -f pipeline` for the models (Dagster asset key -> semantic
    model id) as a Dagster Pipes subprocess and returns what it reported. It does not raise
    for failed refreshes: call raise_for_failure after yielding the results, so models that
    did refresh keep their materializations. Use it in a custom refresh asset to do work
    before and after the refresh."""
    if not models:
        return PbisyncRefreshInvocation(results=[])
    exe = find_pbisync(pbisync)
    extras = {EXTRAS_MODELS: {model_id: key.to_escaped_user_string() for key, model_id in models.items()}}
    with open_pipes_session(
        context=context,
        context_injector=PipesTempFileContextInjector(),
        message_reader=PipesTempFileMessageReader(),
        extras=extras,
    ) as session:
        proc = subprocess.run(
            [exe, "refresh", "-f", os.fspath(pipeline)],
            env={**os.environ, **(env or {}), **session.get_bootstrap_env_vars()},
            capture_output=True,
            text=True,
            check=False,
        )
    if proc.stderr:
        sys.stderr.write(proc.stderr)
    # only what pbisync reported: no implicit materialization for a model that failed
    results = [r for r in session.get_results(implicit_materializations=False) if isinstance(r, MaterializeResult)]
    failures = [
        m[FAILURE_MESSAGE]
        for m in session.get_custom_messages()
        if isinstance(m, Mapping) and isinstance(m.get(FAILURE_MESSAGE), Mapping)
    ]
    reported = {r.asset_key for r in results} | {
        AssetKey.from_escaped_user_string(str(f.get("asset_key"))) for f in failures if f.get("asset_key")
    }
    unreported = [k for k in models if k not in reported]
    return PbisyncRefreshInvocation(
        results=results, failures=failures, returncode=proc.returncode, stderr=proc.stderr, unreported=unreported
    )


def _op_name(specs: Sequence[AssetSpec]) -> str:
    raw = (
        "_".join(specs[0].key.path) if len(specs) == 1 else "pbisync_refresh_" + "_".join(s.key.path[-1] for s in specs)
    )
    return re.sub(r"[^A-Za-z0-9_]+", "_", raw)[:200]


def build_semantic_models_refresh_asset_definition(
    specs: Sequence[AssetSpec],
    *,
    pipeline: str | os.PathLike[str],
    pbisync: str | os.PathLike[str] | None = None,
    name: str | None = None,
) -> AssetsDefinition:
    """One executable multi-asset for several semantic model specs: materializing it (or
    a subset of it) runs one `pbisync refresh` for the selected models, refreshed
    concurrently as the pipeline's refresh settings allow, and reports one
    materialization per model."""
    if not specs:
        raise ValueError("build_semantic_models_refresh_asset_definition needs at least one spec")
    ids: dict[AssetKey, str] = {}
    for spec in specs:
        if not is_semantic_model(spec):
            raise ValueError(
                f"asset {spec.key.to_user_string()} is not a semantic model "
                f"(tag dagster-powerbi/asset_type is {spec.tags.get('dagster-powerbi/asset_type')!r})"
            )
        ids[spec.key] = semantic_model_id(spec)
    pipeline = os.fspath(pipeline)
    if pbisync is None:
        try:
            pbisync = find_pbisync()
        except PbisyncError:
            pbisync = None  # looked up again when the asset runs

    # skippable: a model whose refresh failed must get no materialization (Dagster would
    # otherwise record one for every output not yielded when the step fails)
    @multi_asset(
        specs=[s.replace_attributes(skippable=True) for s in specs],
        name=name or _op_name(specs),
        can_subset=len(specs) > 1,
    )
    def _refresh(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
        selected = {k: ids[k] for k in context.selected_asset_keys if k in ids}
        invocation = run_pbisync_refresh(context, pipeline=pipeline, models=selected, pbisync=pbisync)
        yield from invocation.results
        invocation.raise_for_failure()

    return _refresh


def build_semantic_model_refresh_asset_definition(
    spec: AssetSpec,
    *,
    pipeline: str | os.PathLike[str],
    pbisync: str | os.PathLike[str] | None = None,
) -> AssetsDefinition:
    """An executable asset for one semantic model spec: materializing it runs
    `pbisync refresh` for the model and reports its materialization with the refresh's
    request id, status, start, end, duration and refresh type."""
    return build_semantic_models_refresh_asset_definition([spec], pipeline=pipeline, pbisync=pbisync)
