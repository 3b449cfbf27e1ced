"""The part of kustomize that deploy/k8s uses, in a few lines of Python, so the overlays can be
rendered and validated offline (no kubectl here): `resources` (files and directories),
`namespace`, `images`, and `patches` given by `path` as strategic-merge patches matched by kind
and name. A kustomization that uses anything else is refused, so this never renders something
kustomize would render differently without saying so."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

Document = dict[str, Any]

SUPPORTED = {"apiVersion", "kind", "resources", "namespace", "images", "patches"}
# Lists merged item by item on this key, as Kubernetes' strategic merge does for these fields.
MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name",
              "volumeMounts": "mountPath", "ports": "containerPort"}  # fmt: skip


def load_documents(path: Path) -> list[Document]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def render(directory: Path) -> list[Document]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED
    if unknown:
        raise ValueError(f"{directory}: tests/deploy/kustomize.py does not render {unknown}")
    documents: list[Document] = []
    for resource in kustomization.get("resources", []):
        path = directory / resource
        documents += render(path) if path.is_dir() else load_documents(path)
    for patch in kustomization.get("patches", []):
        if set(patch) != {"path"}:
            raise ValueError(f"{directory}: only patches by path are rendered, not {patch}")
        for change in load_documents(directory / patch["path"]):
            target = _find(documents, change)
            documents[documents.index(target)] = merge(target, change)
    for image in kustomization.get("images", []):
        for container in containers(documents):
            if container["image"].split(":")[0] == image["name"]:
                container["image"] = f"{image.get('newName', image['name'])}:{image['newTag']}"
    if "namespace" in kustomization:
        for document in documents:
            document["metadata"]["namespace"] = kustomization["namespace"]
    return documents


def _find(documents: list[Document], change: Document) -> Document:
    name = change["metadata"]["name"]
    found = [d for d in documents if d["kind"] == change["kind"] and d["metadata"]["name"] == name]
    if len(found) != 1:
        raise ValueError(
            f"a patch names {change['kind']}/{name}, which the base has {len(found)} of"
        )
    return found[0]


def merge(base: Any, change: Any, field: str | None = None) -> Any:
    if isinstance(base, dict) and isinstance(change, dict):
        merged = dict(base)
        for key, value in change.items():
            merged[key] = merge(base[key], value, key) if key in base else value
        return merged
    if isinstance(base, list) and isinstance(change, list) and field in MERGE_KEYS:
        key = MERGE_KEYS[field]
        merged_list = list(base)
        for item in change:
            same = [i for i, old in enumerate(merged_list) if old.get(key) == item.get(key)]
            if same:
                merged_list[same[0]] = merge(merged_list[same[0]], item)
            else:
                merged_list.append(item)
        return merged_list
    return change


def containers(documents: list[Document]) -> Iterator[Document]:
    """Every container and init container of every workload's pod template."""
    for document in documents:
        pod = document.get("spec", {}).get("template", {}).get("spec", {})
        yield from pod.get("initContainers", [])
        yield from pod.get("containers", [])
