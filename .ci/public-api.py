#!/usr/bin/env python3
"""No foreign type we have not chosen to keep appears in a published crate's public API.

Reads the rustdoc JSON of each crate (``cargo rustdoc -- --output-format json``), walks every
item a user can reach from the crate root (modules, re-exports, fields, variants, function
signatures, trait items, trait impls and their generic bounds) and reports each path that
resolves into a crate on the FORBIDDEN list: the transport and database crates whose major
versions we want to be free to change without breaking our users.

Usage: public-api.py DOC_DIR CRATE [CRATE ...]
       public-api.py --canary DOC_DIR   (cmis-http documented with --cfg cmis_public_api_canary:
                                         the failing case, which must be reported exactly)

Exit status 1 lists each finding as ``crate::path::to::item: uses reqwest::Response``.
An entry in EXCEPTIONS (item path prefix, foreign crate) is a deliberate exception.
"""

import json
import sys
from pathlib import Path

ALLOWED = {
    "std", "core", "alloc",
    "cmis", "cmis_core", "cmis_http", "cmis_media", "cmis_meta", "cmis_tiktok", "cmis_ai",
    "cmis_scheduler", "cmis_sandbox", "cmis_bluesky", "cmis_linkedin", "cmis_youtube",
    # Chosen vocabulary (ARCHITECTURE.md, "Decisions"); cmis-core re-exports them.
    "time", "url", "mime", "bytes", "secrecy", "serde", "serde_core",
    # The attribute users implement cmis's async traits with (re-exported by cmis-core).
    "async_trait",
    # The runtime cmis is built on (the stores' wake-up signal is a `tokio::sync::Notify`).
    "tokio",
}

# Deliberate exceptions: (item path prefix, foreign crate).
EXCEPTIONS: set[tuple[str, str]] = set()


def crate_name_of(doc: dict, path_id) -> str | None:
    entry = doc["paths"].get(str(path_id))
    if entry is None:
        return None
    crate_id = entry["crate_id"]
    if crate_id == 0:
        return None
    return doc["external_crates"][str(crate_id)]["name"]


def foreign_path(doc: dict, path_id) -> str:
    entry = doc["paths"].get(str(path_id))
    return "::".join(entry["path"]) if entry else f"#{path_id}"


def refs(value):
    """Every (id, kind) a JSON fragment refers to: resolved paths, trait paths, use targets."""
    if isinstance(value, dict):
        if "id" in value and ("path" in value or "source" in value) and value["id"] is not None:
            yield value["id"]
        for child in value.values():
            yield from refs(child)
    elif isinstance(value, list):
        for child in value:
            yield from refs(child)


def check(doc: dict, crate: str) -> list[str]:
    index = doc["index"]
    findings: list[str] = []
    seen: set[str] = set()
    # (item id, the path a user names it by)
    stack = [(str(doc["root"]), crate)]
    while stack:
        item_id, where = stack.pop()
        if item_id in seen:
            continue
        seen.add(item_id)
        item = index.get(item_id)
        if item is None:
            continue
        kind, inner = next(iter(item["inner"].items()))
        if kind == "impl" and (inner.get("is_synthetic") or inner.get("blanket_impl")):
            continue
        name = item.get("name")
        if kind == "use":
            here = f"{where}::{inner['name']}"
        elif name and item_id != str(doc["root"]):
            here = f"{where}::{name}"
        else:
            here = where
        # What this item's own signature names.
        own = dict(inner)
        for key in ("items", "impls", "implementations", "fields", "variants"):
            own.pop(key, None)
        if kind == "struct":
            own.pop("kind", None)
        for ref in refs(own):
            foreign = crate_name_of(doc, ref)
            if foreign is not None and foreign not in ALLOWED and not any(
                here.startswith(prefix) and foreign == allowed for prefix, allowed in EXCEPTIONS
            ):
                findings.append(f"{here}: uses {foreign_path(doc, ref)}")
            elif str(ref) in index and kind == "use":
                stack.append((str(ref), where))
        # The items a user reaches from here.
        children: list = []
        if kind == "module":
            children = inner["items"]
        elif kind == "struct":
            struct_kind = inner["kind"]
            if isinstance(struct_kind, dict):
                fields = struct_kind.get("plain", {}).get("fields") or struct_kind.get("tuple") or []
                children = [f for f in fields if f is not None]
            children = children + inner.get("impls", [])
        elif kind == "enum":
            children = inner.get("variants", []) + inner.get("impls", [])
        elif kind == "variant":
            variant_kind = inner["kind"]
            if isinstance(variant_kind, dict):
                fields = variant_kind.get("struct", {}).get("fields") or variant_kind.get("tuple") or []
                children = [f for f in fields if f is not None]
        elif kind in ("trait", "impl"):
            children = inner.get("items", [])
        elif kind == "union":
            children = inner.get("fields", []) + inner.get("impls", [])
        for child in children:
            child_item = index.get(str(child))
            if child_item is None:
                continue
            if child_item.get("visibility") not in ("public", "default") and kind != "variant":
                continue
            stack.append((str(child), here))
    return sorted(set(findings))


# The failing case: cmis-http documented with `--cfg cmis_public_api_canary` has a module
# `canary` that leaks a foreign type in each position; exactly these must be reported.
CANARY = {
    "cmis_http::canary::CanaryMethod: uses http::method::Method",
    "cmis_http::canary::CanaryError: uses reqwest::error::Error",
    "cmis_http::canary::CanaryError::from: uses reqwest::error::Error",
    "cmis_http::canary::CanaryField::headers: uses http::header::map::HeaderMap",
    "cmis_http::canary::CanaryTrait::config: uses rustls::client::client_conn::ClientConfig",
    "cmis_http::canary::CanaryVariant::Status::0: uses http::status::StatusCode",
    "cmis_http::canary::canary_function: uses reqwest::async_impl::response::Response",
}


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "--canary":
        doc = json.loads((Path(argv[2]) / "cmis_http.json").read_text())
        found = {f for f in check(doc, "cmis_http") if "::canary" in f}
        if found != CANARY:
            print("the public-API check missed its failing case:")
            for line in sorted(CANARY - found):
                print(f"  not reported: {line}")
            for line in sorted(found - CANARY):
                print(f"  reported, but hidden or private: {line}")
            return 1
        print(f"the failing case fails as it should: {len(found)} leaks reported, none hidden")
        return 0
    doc_dir = Path(argv[1])
    failed = False
    for crate in argv[2:]:
        snake = crate.replace("-", "_")
        doc = json.loads((doc_dir / f"{snake}.json").read_text())
        findings = check(doc, snake)
        for finding in findings:
            print(finding)
        failed |= bool(findings)
        print(f"{crate}: {len(findings)} foreign types in the public API")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
