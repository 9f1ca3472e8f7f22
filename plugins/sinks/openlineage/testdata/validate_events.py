"""Check OpenLineage events with the OpenLineage Python client and the published schemas.

    python validate_events.py EVENTS.jsonl SCHEMA_DIR...

Every line is built into the client's own classes (openlineage.client.event_v2: RunEvent
or DatasetEvent, Run, Job, datasets; every standard facet into the generated class whose
_schemaURL it names), which runs the client's validators (event time, producer and schema
URIs, run id), and serialized back with the client's Serde: the result must equal the line,
so no field is lost or misread. Each event and each facet is then validated against the
published JSON schemas in SCHEMA_DIRs (draft 2020-12, with the jsonschema package and a
registry holding only those files, so an unpublished URL fails). Exits non-zero naming
every bad event.
"""

import importlib
import json
import pathlib
import pkgutil
import sys
import typing
from enum import Enum

import attr
import jsonschema
import openlineage.client.generated as generated
from openlineage.client import event_v2
from openlineage.client.serde import Serde
from referencing import Registry, Resource


def facet_classes():
    """_schemaURL -> generated facet class, from the client's own generated modules."""
    out = {}
    for mod in pkgutil.iter_modules(generated.__path__):
        m = importlib.import_module(f"{generated.__name__}.{mod.name}")
        for obj in vars(m).values():
            if isinstance(obj, type) and attr.has(obj) and hasattr(obj, "_get_schema"):
                try:
                    out[obj._get_schema()] = obj
                except TypeError:
                    pass
    return out


FACETS = facet_classes()


def build(cls, data):
    """An instance of attrs class cls from JSON data, field by field (the client only
    serializes; this is the inverse its classes' types define)."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in attr.fields(cls):
        # _schemaURL is not an argument: the class sets its own, which the round trip
        # then compares with the event's.
        if f.name not in data or not f.init:
            continue
        kwargs[f.alias] = value(hints.get(f.name), data[f.name])
    extra = {k: v for k, v in data.items() if k not in {f.name for f in attr.fields(cls)}}
    if extra:
        raise ValueError(f"{cls.__name__} has no field(s) {sorted(extra)}")
    return cls(**kwargs)


def value(tp, v):
    if v is None:
        return None
    origin = typing.get_origin(tp)
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)) and args:
        return value(args[0], v)
    if origin is list:
        return [value(args[0], x) for x in v]
    if origin is dict:
        vt = args[1]
        if isinstance(vt, type) and vt.__name__.endswith("Facet"):
            return {k: facet(x) for k, x in v.items()}
        return {k: value(vt, x) for k, x in v.items()}
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(v)
    if isinstance(tp, type) and attr.has(tp):
        return build(tp, v)
    return v


def facet(data):
    cls = FACETS.get(data.get("_schemaURL"))
    if cls is None:
        # A custom facet: no class in the client, validated against its schema below.
        return data
    return build(cls, data)


def check(line, validate):
    ev = json.loads(line)
    cls = event_v2.RunEvent if "run" in ev else event_v2.DatasetEvent
    obj = build(cls, ev)
    back = Serde.to_dict(obj)
    if diffs := differences(ev, back, ""):
        raise ValueError("the client reads it differently: " + "; ".join(diffs))
    validate(ev["schemaURL"], ev)
    walk(ev, validate)


def differences(a, b, path):
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in b:
                out.append(f"{path}.{k}: dropped by the client")
            elif k not in a:
                if b[k] in ({}, []):
                    continue  # a default of the client's class (an empty list or map)
                out.append(f"{path}.{k}: added by the client ({json.dumps(b[k])[:200]})")
            else:
                out.extend(differences(a[k], b[k], f"{path}.{k}"))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: ours {json.dumps(a)[:200]}, client {json.dumps(b)[:200]}"]


def walk(v, validate):
    if isinstance(v, dict):
        for k, c in v.items():
            if k in ("facets", "inputFacets", "outputFacets"):
                for name, f in c.items():
                    validate(f["_schemaURL"], f)
            walk(c, validate)
    elif isinstance(v, list):
        for c in v:
            walk(c, validate)


def main():
    events, dirs = sys.argv[1], sys.argv[2:]
    resources = []
    for d in dirs:
        for p in pathlib.Path(d).rglob("*.json"):
            doc = json.loads(p.read_text())
            resources.append((doc["$id"], Resource.from_contents(doc)))
    registry = Registry().with_resources(resources)

    def validate(url, instance):
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": url}
        jsonschema.Draft202012Validator(schema, registry=registry,
                                        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(instance)

    problems, n = [], 0
    with open(events) as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            n += 1
            try:
                check(line, validate)
            except Exception as e:
                problems.append(f"{events}:{i}: {type(e).__name__}: {e}"[:2000])
    print(f"{n} events checked with openlineage-python and the published schemas, {len(problems)} problems")
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
