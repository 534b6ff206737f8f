#!/usr/bin/env python3
"""Writes crates/ecs-model/model/ecs.json: the shapes of the ECS API that ecs-sim serves, trimmed from the
ECS service model that botocore ships (installed in .venv/ by scripts/setup-venv.sh).

ecs-sim validates every request against these shapes, so unknown members, wrong types, values outside an
enum and missing required members are rejected as ECS rejects them. Run again after upgrading awscli in
requirements-dev.txt to pick up members that ECS has added since.
"""
import glob
import gzip
import json
import os
import sys

OPERATIONS = [
    "CreateCluster", "DescribeClusters",
    "RegisterTaskDefinition", "DescribeTaskDefinition", "ListTaskDefinitions", "DeregisterTaskDefinition",
    "CreateService", "UpdateService", "DeleteService", "DescribeServices", "ListServices",
    "RunTask", "StopTask", "ListTasks", "DescribeTasks",
    "TagResource", "UntagResource", "ListTagsForResource",
    "ListServiceDeployments", "DescribeServiceDeployments", "DescribeServiceRevisions",
    "StopServiceDeployment", "ContinueServiceDeployment",
]
# Output shapes whose member names ecs-sim needs (it copies request members of these names into them).
OUTPUT_SHAPES = ["Service", "TaskDefinition"]
KEEP = ("type", "required", "member", "key", "value", "enum", "members")

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
paths = glob.glob(os.path.join(root, ".venv/lib/python*/site-packages/botocore/data/ecs/2014-11-13/service-2.json.gz"))
if not paths:
    sys.exit("gen-ecs-model: botocore's ECS model not found in .venv; run scripts/setup-venv.sh first")
model = json.load(gzip.open(paths[0]))
import botocore  # noqa: E402  (only for its version, from the same venv when run with .venv/bin/python)

shapes = {}

def visit(name):
    if name in shapes:
        return
    shape = model["shapes"][name]
    kept = {k: v for k, v in shape.items() if k in KEEP}
    if "members" in kept:
        kept["members"] = {m: {"shape": ref["shape"]} for m, ref in shape["members"].items()}
    for ref in ("member", "key", "value"):
        if ref in kept:
            kept[ref] = {"shape": shape[ref]["shape"]}
    shapes[name] = kept
    for m in kept.get("members", {}).values():
        visit(m["shape"])
    for ref in ("member", "key", "value"):
        if ref in kept:
            visit(kept[ref]["shape"])

operations = {}
for op in OPERATIONS:
    input_shape = model["operations"][op]["input"]["shape"]
    operations[op] = {"input": input_shape}
    visit(input_shape)
for name in OUTPUT_SHAPES:
    visit(name)

out = {
    "source": f"botocore {botocore.__version__} data/ecs/2014-11-13/service-2.json",
    "targetPrefix": model["metadata"]["targetPrefix"],
    "operations": operations,
    "shapes": dict(sorted(shapes.items())),
}
dest = os.path.join(root, "crates/ecs-model/model/ecs.json")
with open(dest, "w") as f:
    json.dump(out, f, indent=1, sort_keys=False)
    f.write("\n")
print(f"gen-ecs-model: wrote {len(shapes)} shapes for {len(operations)} operations to {dest}")
