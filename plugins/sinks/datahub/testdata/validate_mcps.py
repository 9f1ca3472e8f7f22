"""Check a DataHub MCP file with DataHub's own Python SDK (acryl-datahub).

    python validate_mcps.py MCPS.json

Every MCP goes through DataHub's file source (what `datahub check metadata-file` runs),
then through MetadataChangeProposalWrapper.from_obj and the aspect class's own avro
validation, and its aspect must be one DataHub's entity registry lists for its entity
type (ENTITY_TYPE_TO_ASPECT_NAMES, generated from entity-registry.yml). Exits non-zero
naming every bad MCP.
"""

import json
import sys

from datahub.cli.json_file import check_mce_file
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.metadata._internal_schema_classes import ENTITY_TYPE_TO_ASPECT_NAMES


def main():
    path = sys.argv[1]
    problems = []
    try:
        print(check_mce_file(path))
    except Exception as e:  # the file source's first failure
        problems.append(f"datahub file source: {e}")
    with open(path) as f:
        items = json.load(f)
    for i, obj in enumerate(items):
        where = f"MCP {i} ({obj.get('entityUrn')} {obj.get('aspectName')})"
        try:
            mcp = MetadataChangeProposalWrapper.from_obj(obj)
        except Exception as e:
            problems.append(f"{where}: {e}")
            continue
        if not mcp.validate():
            problems.append(f"{where}: the aspect does not validate against its avro schema")
        allowed = ENTITY_TYPE_TO_ASPECT_NAMES.get(mcp.entityType)
        if allowed is None or (mcp.aspectName not in allowed and not mcp.aspectName.endswith("Key")):
            problems.append(f"{where}: {mcp.aspectName} is not an aspect of {mcp.entityType}")
    print(f"{len(items)} MCPs checked with acryl-datahub, {len(problems)} problems")
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
