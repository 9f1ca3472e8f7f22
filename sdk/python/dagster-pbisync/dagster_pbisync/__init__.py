"""dagster-pbisync: pbisync's Power BI assets and refreshes in Dagster, with the names a
dagster-powerbi user knows."""

from dagster_pbisync.component import PbisyncComponent as PbisyncComponent
from dagster_pbisync.refresh import (
    PbisyncRefreshInvocation as PbisyncRefreshInvocation,
)
from dagster_pbisync.refresh import (
    build_semantic_model_refresh_asset_definition as build_semantic_model_refresh_asset_definition,
)
from dagster_pbisync.refresh import (
    build_semantic_models_refresh_asset_definition as build_semantic_models_refresh_asset_definition,
)
from dagster_pbisync.refresh import (
    run_pbisync_refresh as run_pbisync_refresh,
)
from dagster_pbisync.runner import PbisyncError as PbisyncError
from dagster_pbisync.specs import (
    DagsterPbisyncTranslator as DagsterPbisyncTranslator,
)
from dagster_pbisync.specs import (
    PbisyncTranslatorData as PbisyncTranslatorData,
)
from dagster_pbisync.specs import (
    SpecFormatError as SpecFormatError,
)
from dagster_pbisync.state import (
    PbisyncSpecsState as PbisyncSpecsState,
)
from dagster_pbisync.state import (
    default_state_path as default_state_path,
)
from dagster_pbisync.state import (
    load_pbisync_asset_specs as load_pbisync_asset_specs,
)
from dagster_pbisync.state import (
    refresh_state as refresh_state,
)

__version__ = "0.1.0"
