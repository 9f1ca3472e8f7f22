"""PbisyncComponent: a pbisync pipeline's Power BI assets as a Dagster component,
configured in YAML like dagster_powerbi.PowerBIWorkspaceComponent."""

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, TypeAlias

import dagster as dg
from dagster import AssetSpec
from dagster.components import ComponentLoadContext, Resolvable, Resolver
from dagster.components.component.state_backed_component import StateBackedComponent
from dagster.components.resolved.base import resolve_fields
from dagster.components.resolved.context import ResolutionContext
from dagster.components.resolved.core_models import AssetSpecKeyUpdateKwargs, AssetSpecUpdateKwargs
from dagster.components.utils import TranslatorResolvingInfo
from dagster.components.utils.defs_state import DefsStateConfig, DefsStateConfigArgs, ResolvedDefsStateConfig
from dagster.components.utils.translation import TranslationFn, TranslationFnResolver
from dagster_shared.record import record

from dagster_pbisync.refresh import build_semantic_models_refresh_asset_definition
from dagster_pbisync.runner import sync_specs
from dagster_pbisync.specs import (
    DagsterPbisyncTranslator,
    PbisyncTranslatorData,
    is_semantic_model,
    read_specs,
    translate_specs,
)

PbisyncTranslationFn: TypeAlias = TranslationFn[PbisyncTranslatorData]

_ForType = Annotated[PbisyncTranslationFn, TranslationFnResolver[PbisyncTranslatorData](lambda data: {"data": data})]
_ForTypeKeyOnly = Annotated[
    PbisyncTranslationFn,
    TranslationFnResolver[PbisyncTranslatorData](
        lambda data: {"data": data}, model_field_type=AssetSpecKeyUpdateKwargs.model()
    ),
]


@record
class PbisyncAssetArgs(AssetSpecUpdateKwargs, Resolvable):
    """`translation:` attributes for every asset, and per content type under for_*."""

    for_dashboard: _ForType | None = None
    for_report: _ForType | None = None
    for_semantic_model: _ForType | None = None
    # data sources are dependencies only, so only their key can change
    for_data_source: _ForTypeKeyOnly | None = None


def _resolve_translation(context: ResolutionContext, model: Any) -> TranslationFn:
    """Applies the top-level translation attributes, then the per-type ones."""
    info = TranslatorResolvingInfo(asset_attributes=model, resolution_context=context, model_key="translation")

    def translate(base: AssetSpec, data: PbisyncTranslatorData) -> AssetSpec:
        spec = info.get_asset_spec(base, {"data": data, "spec": base})
        per_type = resolve_fields(
            model=model, resolved_cls=PbisyncAssetArgs, context=context.with_scope(data=data, spec=spec)
        )
        fn = per_type.get(f"for_{data.content_type}")
        return fn(spec, data) if fn else spec

    return translate


ResolvedPbisyncTranslationFn: TypeAlias = Annotated[
    TranslationFn,
    Resolver(_resolve_translation, model_field_type=str | PbisyncAssetArgs.model()),
]


class _ComponentTranslator(DagsterPbisyncTranslator):
    def __init__(self, component: "PbisyncComponent"):
        self.component = component

    def get_asset_spec(self, data: PbisyncTranslatorData) -> AssetSpec:
        base = self.component.get_asset_spec(data)
        if self.component.translation is None:
            return base
        return self.component.translation(base, data)


def _resolve_path(context: ResolutionContext, value: str) -> str:
    return str(context.resolve_source_relative_path(value))


@dataclass
class PbisyncComponent(StateBackedComponent, Resolvable):
    """The Power BI assets of a pbisync pipeline (every source and workspace it reads),
    with their lineage, as Dagster assets; semantic models optionally refreshable.

    The specs are the component's state: `dg utils refresh-defs-state` (or
    `dagster-pbisync refresh-state`) runs `pbisync sync` and caches them, so loading
    the code location makes no Power BI calls.

    Example:

        .. code-block:: yaml

            # defs.yaml
            type: dagster_pbisync.PbisyncComponent
            attributes:
              pipeline: pipeline.yaml          # relative to this file
              enable_semantic_model_refresh: [Sales Model]
              translation:
                group_name: powerbi
                for_dashboard:
                  key_prefix: [bi]
    """

    pipeline: Annotated[str, Resolver(_resolve_path, model_field_type=str)]
    source: str | None = None
    pbisync: str | None = None
    include_data_sources: bool = False
    # True for every semantic model, or the names of those to make refreshable
    enable_semantic_model_refresh: bool | list[str] = False
    translation: ResolvedPbisyncTranslationFn | None = None
    defs_state: ResolvedDefsStateConfig = field(default_factory=DefsStateConfigArgs.local_filesystem)

    @property
    def defs_state_config(self) -> DefsStateConfig:
        key = f"{self.__class__.__name__}[{Path(self.pipeline).name}{':' + self.source if self.source else ''}]"
        return DefsStateConfig.from_args(self.defs_state, default_key=key)

    @cached_property
    def translator(self) -> DagsterPbisyncTranslator:
        return _ComponentTranslator(self)

    @cached_property
    def _base_translator(self) -> DagsterPbisyncTranslator:
        return DagsterPbisyncTranslator()

    def get_asset_spec(self, data: PbisyncTranslatorData) -> AssetSpec:
        """The spec of one pbisync asset before `translation:`; override it in a subclass
        to change specs in Python."""
        return self._base_translator.get_asset_spec(data)

    def _refreshable(self, spec: AssetSpec, name: str) -> bool:
        if not is_semantic_model(spec):
            return False
        if self.enable_semantic_model_refresh is True:
            return True
        return isinstance(self.enable_semantic_model_refresh, list) and name in self.enable_semantic_model_refresh

    def write_state_to_path(self, state_path: Path) -> None:
        sync_specs(self.pipeline, state_path, source=self.source, pbisync=self.pbisync)

    def build_defs_from_state(self, context: ComponentLoadContext, state_path: Path | None) -> dg.Definitions:
        if state_path is None:
            return dg.Definitions()
        assets: list[Any] = []
        for raw, spec in translate_specs(
            read_specs(state_path), self.translator, include_data_sources=self.include_data_sources
        ):
            # enable_semantic_model_refresh names Power BI names, whatever key a translation gave
            if self._refreshable(spec, str(raw.get("powerbi", {}).get("name", ""))):
                assets.append(
                    build_semantic_models_refresh_asset_definition([spec], pipeline=self.pipeline, pbisync=self.pbisync)
                )
            else:
                assets.append(spec)
        return dg.Definitions(assets=assets)
