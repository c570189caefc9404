"""Build one SCORM package: pages, runtime, media and manifest, written as a deterministic zip."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path

from capacity_lti.content import Event, Module, Programme
from capacity_lti.errors import PackagingError
from capacity_lti.packaging import manifest12, manifest2004
from capacity_lti.packaging import schemas as xsd
from capacity_lti.packaging.archive import SAFE_NAME, write_zip
from capacity_lti.packaging.pages import (
    Context,
    certificate_page,
    combined_page,
    event_page,
    mastery,
    module_page,
    strictest,
)
from capacity_lti.packaging.runtime_files import runtime_files
from capacity_lti.packaging.selection import PackageSpec, Selection, check_spec, select
from capacity_lti.packaging.structure import Node, Resource, Structure
from capacity_lti.packaging.ui import Labels

RUNTIME = "res-capacity"
SINGLE_PAGE = "index.html"  # the one SCO page of a single-SCO package
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def build_package(
    programme: Programme,
    standard: str,
    language: str,
    out: Path,
    *,
    module_id: str | None = None,
    path_id: str | None = None,
    schemas: Path | None = None,
    single_sco: bool = False,
) -> Path:
    """Write one package into the folder `out` and return the zip's path.

    `standard` is "scorm12" or "scorm2004"; the package holds the whole programme, one path
    (`path_id`) or one module (`module_id`), one SCO per module or, with `single_sco`, one SCO
    for them all. With `schemas` (a folder laid out like shared/schemas) the manifest is
    validated against the official XSDs and they are shipped beside it.
    """
    spec = PackageSpec(programme.id, standard, language, path_id, module_id, single_sco)
    return build_spec(programme, spec, out, schemas=schemas)


def build_spec(
    programme: Programme, spec: PackageSpec, out: Path, *, schemas: Path | None = None
) -> Path:
    """Write the package `spec` (e.g. one of plan_all's) into the folder `out`; return the zip."""
    if spec.programme_id != programme.id:
        raise PackagingError(
            f"this package is planned for programme '{spec.programme_id}', not '{programme.id}'"
        )
    spec = check_spec(
        programme, spec.standard, spec.language, path_id=spec.path_id,
        module_id=spec.module_id, single_sco=spec.single_sco,
    )  # fmt: skip
    selection = select(programme, spec)
    if not selection.modules:
        raise PackagingError(
            f"'{selection.id}' has no modules: a SCORM package needs at least one to track"
        )
    files = _Files()
    items: list[Module | Event] = [*selection.modules, *selection.events]
    assets = sorted({a for item in items for a in item.assets})
    renames = {a: _safe(a) for a in assets}
    changed = {old: new for old, new in renames.items() if old != new}
    ctx = Context(
        programme,
        spec.standard,
        spec.language,
        programme.chain(spec.language),
        Labels(programme.chain(spec.language)),
        changed,
    )
    for name, data in runtime_files().items():
        files.add(name, data)
    for asset in assets:
        files.add(renames[asset], _read(programme.root, asset))
    resources = [Resource(RUNTIME, None, tuple(runtime_files()), sco=False)]
    nodes: list[Node]
    if spec.single_sco and spec.module_id is None:
        nodes = _single(ctx, selection, files, renames, resources)
    else:
        nodes = _per_module(ctx, selection, files, renames, resources)
    structure = Structure(
        identifier=f"capacity-{spec.filename.removesuffix('.zip')}",
        title=ctx.text(selection.title),
        description=ctx.text(selection.description),
        language=spec.language,
        nodes=tuple(nodes),
        resources=tuple(resources),
        objectives=f"urn:capacity-lti:{programme.id}:",
    )
    try:
        if spec.standard == "scorm12":
            manifest = manifest12.manifest(structure)
            files.add(manifest12.METADATA, manifest12.metadata(structure))
        else:
            manifest = manifest2004.manifest(structure)
    except ValueError as exc:  # lxml refuses text XML cannot hold (control characters)
        raise PackagingError(f"a title or description cannot go into the manifest: {exc}") from exc
    if schemas is not None:
        xsd.validate(manifest, schemas, spec.standard)
        for name, data in xsd.control_files(schemas, spec.standard).items():
            files.add(name, data)
    files.add("imsmanifest.xml", manifest)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PackagingError(f"cannot create the folder {out}: {exc.strerror or exc}") from exc
    return write_zip(out / spec.filename, files.data)


class _Files:
    """The package's files, {zip path: bytes}; a path added twice is a clash, not an overwrite."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def add(self, name: str, data: bytes) -> None:
        if name in self.data:
            raise PackagingError(f"two files of the package would both be {name!r}")
        self.data[name] = data


def _safe(path: str) -> str:
    """A safe ASCII zip path for a programme file: unchanged when already safe."""
    if SAFE_NAME.match(path):
        return path
    ascii_path = unicodedata.normalize("NFKD", path).encode("ascii", "ignore").decode()
    parts = [_UNSAFE.sub("-", part).strip(".-") or "file" for part in ascii_path.split("/")]
    stem, dot, suffix = parts[-1].rpartition(".")
    digest = hashlib.sha256(path.encode()).hexdigest()[:8]
    parts[-1] = f"{stem}-{digest}.{suffix}" if dot and stem else f"{parts[-1]}-{digest}"
    return "/".join(parts)


def _read(root: Path, asset: str) -> bytes:
    try:
        return (root / asset).read_bytes()
    except OSError as exc:
        raise PackagingError(f"cannot read {root / asset}: {exc.strerror or exc}") from exc


def _certificate(programme: Programme, modules: list[Module]) -> bool:
    return programme.certificates.modules and all(m.certificate for m in modules)


def _files_of(
    page: str, extra: list[str], item: Module | Event, renames: Mapping[str, str]
) -> tuple[str, ...]:
    return (page, *extra, *sorted(renames[a] for a in item.assets))


def _event(
    ctx: Context, event: Event, files: _Files, renames: Mapping[str, str], resources: list[Resource]
) -> Node:
    page = f"{event.id}.html"
    files.add(page, event_page(ctx, event).encode())
    resources.append(
        Resource(
            f"res-{event.id}",
            page,
            _files_of(page, [], event, renames),
            sco=False,
            depends=(RUNTIME,),
        )
    )
    return Node(f"item-{event.id}", ctx.text(event.title), f"res-{event.id}", tracked=False)


def _per_module(
    ctx: Context,
    selection: Selection,
    files: _Files,
    renames: Mapping[str, str],
    resources: list[Resource],
) -> list[Node]:
    """One SCO per module (and a page per event), grouped as the selection groups them."""
    nodes: list[Node] = []
    for index, group in enumerate(selection.groups):
        children: list[Node] = []
        for item in group.items:
            if isinstance(item, Event):
                children.append(_event(ctx, item, files, renames, resources))
                continue
            page = f"{item.id}.html"
            certificate = None
            if _certificate(ctx.programme, [item]):
                certificate = f"{item.id}.certificate.html"
                html = certificate_page(ctx, ctx.text(item.title), "module")
                files.add(certificate, html.encode())
            files.add(page, module_page(ctx, item, certificate).encode())
            extra = [certificate] if certificate else []
            resources.append(
                Resource(
                    f"res-{item.id}",
                    page,
                    _files_of(page, extra, item, renames),
                    sco=True,
                    depends=(RUNTIME,),
                )
            )
            children.append(
                Node(
                    f"item-{item.id}",
                    ctx.text(item.title),
                    f"res-{item.id}",
                    objective=item.id,
                    mastery=mastery(item),
                    requires=selection.requires.get(item.id, ()),
                )
            )
        title = ctx.labels[group.label] if group.label else ctx.text(group.title or {})
        if title and len(selection.groups) > 1:
            nodes.append(Node(f"group-{index + 1}", title, children=tuple(children)))
        else:
            nodes += children
    return nodes


def _single(
    ctx: Context,
    selection: Selection,
    files: _Files,
    renames: Mapping[str, str],
    resources: list[Resource],
) -> list[Node]:
    """One SCO for every module of the selection, then a page per event."""
    modules = selection.modules
    title = ctx.text(selection.title)
    certificate = None
    if _certificate(ctx.programme, modules):
        certificate = "certificate.html"
        files.add(certificate, certificate_page(ctx, title, selection.scope).encode())
    page = combined_page(ctx, selection.id, selection.scope, title, modules, certificate)
    files.add(SINGLE_PAGE, page.encode())
    assets = sorted({renames[a] for m in modules for a in m.assets})
    extra = [certificate] if certificate else []
    resources.append(
        Resource(
            "res-sco", SINGLE_PAGE, (SINGLE_PAGE, *extra, *assets), sco=True, depends=(RUNTIME,)
        )
    )
    nodes = [
        Node(
            "item-sco",
            title,
            "res-sco",
            objective=selection.id,
            mastery=strictest(modules),
        )
    ]
    nodes += [_event(ctx, e, files, renames, resources) for e in selection.events]
    return nodes
