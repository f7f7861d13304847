"""Compare two OpenAPI 3.1 documents and classify each difference as BREAKING (a client
written against the old document can fail against the new one) or ADDITIVE (it cannot:
new things, or documentation).

Why our own and not a published checker: Optic (npm ``@useoptic/optic`` 1.0.9) fails to
start on this machine and misses an ``anyOf [T, null]`` field made required;
api-smart-diff (npm) calls a new required parameter non-breaking; oasdiff is Go. This
module is the standard library only, takes milliseconds inside the unit tier (no process
to start), and its tests (tests/unit/http/test_openapi_diff.py) hold it to every class.

Direction decides most verdicts:

- what a client sends (parameters, request bodies) must keep being accepted: a change
  that narrows what the server accepts (a new required field, a nullable made non-null, a
  removed enum value, a tighter bound) is breaking, one that widens it is additive;
- what a client reads (responses and their headers) must keep meeting what it expects: a
  change that widens what the server may answer (a field made optional or nullable, a new
  enum value) is breaking, one that narrows it is additive.

Exceptions, on purpose:

- a removed field is breaking both ways: a response loses data clients read; a request
  body is closed (``additionalProperties: false``), so a client that still sends the field
  gets 422, and on an open one the server silently ignores what the client meant;
- a removed enum value is breaking both ways: a value a client received is one it keeps,
  compares and sends back;
- a response object opened to or closed against unknown fields is additive, and so is a
  new response field: clients must ignore fields they do not know;
- a changed type, format or pattern is breaking both ways (neither contains the other);
  a changed ``default`` of a request value is breaking (a client that omits it gets other
  behaviour), of a response one documentation;
- a keyword this module does not know is breaking when it changes: unknown is unsafe.

Shared schemas (``#/components/schemas``) are compared once per direction they are used
in, and a change inside one lists the operations that reach it ("used by"): one change to
a shared schema is one change, with one id, not one per operation.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = ["ADDITIVE", "BREAKING", "Change", "compare", "render"]

BREAKING = "BREAKING"
ADDITIVE = "ADDITIVE"

Json = Any
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JSON_MEDIA = "application/json"
SCHEMA_REFS = "#/components/schemas/"
UNCLASSIFIED_SHOWN = 10

ANNOTATIONS = frozenset(
    {
        "description",
        "summary",
        "title",
        "examples",
        "example",
        "externalDocs",
        "tags",
        "deprecated",
        "$comment",
        "readOnly",
        "writeOnly",
        "xml",
        "links",
    }
)
"""Keywords that document and constrain nothing: a change of one is additive."""

LOWER_BOUNDS = ("minLength", "minimum", "exclusiveMinimum", "minItems", "minProperties")
UPPER_BOUNDS = ("maxLength", "maximum", "exclusiveMaximum", "maxItems", "maxProperties")
EXACT_CONSTRAINTS = ("format", "pattern", "multipleOf")
SCHEMA_KEYWORDS = frozenset(
    {
        "properties",
        "required",
        "additionalProperties",
        "items",
        "enum",
        "const",
        "default",
        "uniqueItems",
        *LOWER_BOUNDS,
        *UPPER_BOUNDS,
        *EXACT_CONSTRAINTS,
    }
)
"""Keywords compared for what they mean (``type``, ``$ref``, ``oneOf``/``anyOf`` and
``nullable`` are taken apart before: see ``_View``)."""


class Direction(Enum):
    REQUEST = "request"
    """The client writes it; the server must keep accepting what it accepted."""
    RESPONSE = "response"
    """The client reads it; the server must keep answering what clients expect."""


class Shift(Enum):
    """What a change does to the values a schema allows; the direction gives the verdict."""

    WIDENS = "widens"
    NARROWS = "narrows"
    BREAKS = "breaks"
    """Breaking in both directions (neither side contains the other, or by policy)."""
    COMPATIBLE = "compatible"
    """Additive in both directions."""


def _severity(direction: Direction, shift: Shift) -> str:
    if shift is Shift.BREAKS:
        return BREAKING
    if shift is Shift.COMPATIBLE:
        return ADDITIVE
    harmful = Shift.NARROWS if direction is Direction.REQUEST else Shift.WIDENS
    return BREAKING if shift is harmful else ADDITIVE


@dataclass(frozen=True, slots=True)
class Change:
    severity: str
    rule: str
    """What kind of change: ``response-field-removed``, ``operation-added``..."""
    where: str
    """``GET /api/v1/auth/me response 200 body.email``, or ``schema UserOut.email``."""
    message: str
    """For a person: ``response field `email` removed``."""
    used_by: tuple[str, ...] = ()
    """For a change inside a shared schema: the places of the operations that use it."""

    @property
    def id(self) -> str:
        """Stable across runs, unique in a comparison: what docs/api-changes.md names."""
        return f"{self.rule} {self.where}"


def compare(old: Json, new: Json) -> list[Change]:
    """Every difference between two documents, breaking ones first, each sorted by id."""
    return _Comparison(old, new).run()


def render(changes: Collection[Change], accepted: Collection[str] = ()) -> str:
    """The changes for a person: what changed, where, who uses it, and the id.

    A breaking change whose id is in ``accepted`` says so; one that is not, says that too.
    """
    lines: list[str] = []
    for change in changes:
        status = ""
        if change.severity == BREAKING:
            status = " [accepted]" if change.id in accepted else " [NOT ACCEPTED]"
        lines.append(f"{change.severity}: {change.message}, at {change.where}{status}")
        for number, place in enumerate(change.used_by):
            lines.append(f"    {'used by:' if number == 0 else '':8} {place}")
        lines.append(f"    id: {change.id}")
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class _Context:
    direction: Direction
    used_by: tuple[str, ...] = ()

    @property
    def noun(self) -> str:
        return self.direction.value


@dataclass(frozen=True, slots=True)
class _View:
    """A schema taken apart: ``type: [T, "null"]``, ``oneOf/anyOf [T, {type: null}]`` and
    3.0's ``nullable`` all become ``nullable`` beside T, so each spelling compares alike."""

    ref: str | None
    nullable: bool
    types: frozenset[str] | None
    """None: any type."""
    alternatives: tuple[Json, ...] | None
    """Two or more non-null ``oneOf``/``anyOf`` members."""
    keywords: dict[str, Json] = field(default_factory=dict)


def _is_null(schema: Json) -> bool:
    return isinstance(schema, dict) and schema.get("type") in ("null", ["null"])


def _view(schema: Json) -> _View:
    if schema is True or schema is None:
        schema = {}
    elif schema is False:
        schema = {"not": {}}
    keywords = dict(schema)
    nullable = bool(keywords.pop("nullable", False))
    declared = keywords.pop("type", None)
    types = None
    if declared is not None:
        types = frozenset([declared] if isinstance(declared, str) else declared)
        if "null" in types and len(types) > 1:
            nullable, types = True, types - {"null"}
    ref = keywords.pop("$ref", None)
    alternatives = None
    for keyword in ("oneOf", "anyOf"):
        if keyword not in keywords:
            continue
        members = list(keywords.pop(keyword))
        others = [member for member in members if not _is_null(member)]
        nullable = nullable or len(others) < len(members)
        if len(others) != 1:
            alternatives = tuple(others)
            continue
        inner = _view(others[0])
        ref = inner.ref if ref is None else ref
        types = inner.types if types is None else types
        nullable = nullable or inner.nullable
        alternatives = inner.alternatives
        keywords = {**inner.keywords, **keywords}
    if isinstance(keywords.get("allOf"), list) and len(keywords["allOf"]) == 1:
        inner = _view(keywords.pop("allOf")[0])
        return _View(
            ref=inner.ref,
            nullable=nullable or inner.nullable,
            types=inner.types if types is None else types,
            alternatives=inner.alternatives or alternatives,
            keywords={**inner.keywords, **keywords},
        )
    return _View(ref, nullable, types, alternatives, keywords)


def _pointer(document: Json, ref: str) -> Json:
    """The target of a local ``$ref`` (``#/components/...``); ``{}`` if there is none."""
    target = document
    for part in ref.removeprefix("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(target, dict) or part not in target:
            return {}
        target = target[part]
    return target


def _deref(document: Json, item: Json) -> Json:
    """A parameter, body, response or header with its ``$ref`` (if any) followed."""
    for _ in range(32):  # a chain of aliases, not a cycle
        if not isinstance(item, dict) or "$ref" not in item:
            return item
        item = _pointer(document, item["$ref"])
    return {}


def _resolve(document: Json, view: _View) -> _View:
    """A view whose ``$ref`` is replaced by the schema it names (nullability and sibling
    keywords of the reference kept)."""
    for _ in range(32):
        if view.ref is None:
            return view
        target = _view(_pointer(document, view.ref))
        view = _View(
            ref=target.ref,
            nullable=view.nullable or target.nullable,
            types=target.types if view.types is None else view.types,
            alternatives=target.alternatives or view.alternatives,
            keywords={**target.keywords, **view.keywords},
        )
    return view


def _refs_within(document: Json, schema: Json) -> set[str]:
    """Names of the shared schemas ``schema`` reaches, through each other too."""
    names: set[str] = set()
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(SCHEMA_REFS):
                name = ref.removeprefix(SCHEMA_REFS)
                if name not in names:
                    names.add(name)
                    pending.append(_pointer(document, ref))
            pending.extend(value for key, value in node.items() if key != "$ref")
    return names


def _operations(document: Json) -> Iterator[tuple[str, Json, Json]]:
    """(``GET /path``, operation, its path item) for every operation."""
    for path, item in (document.get("paths") or {}).items():
        item = _deref(document, item)
        for method in METHODS:
            if method in item:
                yield f"{method.upper()} {path}", item[method], item


def _parameters(document: Json, item: Json, operation: Json) -> dict[tuple[str, str], Json]:
    """An operation's parameters by (location, name), its path item's included."""
    found: dict[tuple[str, str], Json] = {}
    for parameter in [*item.get("parameters", []), *operation.get("parameters", [])]:
        parameter = _deref(document, parameter)
        name = str(parameter.get("name", ""))
        location = str(parameter.get("in", ""))
        found[(location, name.lower() if location == "header" else name)] = parameter
    return found


def _schema_sites(document: Json) -> Iterator[tuple[str, Direction, Json]]:
    """(place, direction, schema) of every schema an operation uses directly."""
    for label, operation, item in _operations(document):
        for (location, name), parameter in _parameters(document, item, operation).items():
            site = f"{label} {location} parameter {name}"
            yield site, Direction.REQUEST, parameter.get("schema", {})
        body = _deref(document, operation.get("requestBody"))
        for media in (body or {}).get("content", {}).values():
            yield f"{label} request body", Direction.REQUEST, media.get("schema", {})
        for status, response in (operation.get("responses") or {}).items():
            response = _deref(document, response)
            site = f"{label} response {status}"
            for media in response.get("content", {}).values():
                yield site, Direction.RESPONSE, media.get("schema", {})
            for header in response.get("headers", {}).values():
                yield site, Direction.RESPONSE, _deref(document, header).get("schema", {})


def _component_uses(document: Json) -> dict[tuple[str, Direction], set[str]]:
    """For each shared schema and direction: the places of the operations that reach it."""
    uses: dict[tuple[str, Direction], set[str]] = {}
    for site, direction, schema in _schema_sites(document):
        for name in _refs_within(document, schema):
            uses.setdefault((name, direction), set()).add(site)
    return uses


def _text(value: Json) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _type_text(types: frozenset[str] | None) -> str:
    return "any" if types is None else "|".join(sorted(types))


def _covers(wide: frozenset[str] | None, narrow: frozenset[str] | None) -> bool:
    if wide is None:
        return True
    if narrow is None:
        return False
    return all(kind in wide or (kind == "integer" and "number" in wide) for kind in narrow)


def _label(schema: Json) -> str:
    """How a ``oneOf``/``anyOf`` member is matched with its counterpart: by the shared
    schema it names, or else by its type."""
    view = _view(schema)
    if view.ref is not None:
        return view.ref.rsplit("/", 1)[-1]
    if view.types is not None:
        return _type_text(view.types)
    return _text(schema)


_MISSING = object()


def _changed_pointers(old: Json, new: Json, prefix: str = "") -> Iterator[str]:
    """JSON pointers where two documents differ: the report of last resort."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            part = f"{prefix}/{str(key).replace('~', '~0').replace('/', '~1')}"
            yield from _changed_pointers(old.get(key, _MISSING), new.get(key, _MISSING), part)
    elif old != new:
        yield prefix or "/"


class _Comparison:
    def __init__(self, old: Json, new: Json) -> None:
        self.old = old
        self.new = new
        self.changes: list[Change] = []
        old_uses, new_uses = _component_uses(old), _component_uses(new)
        old_schemas = (old.get("components") or {}).get("schemas") or {}
        new_schemas = (new.get("components") or {}).get("schemas") or {}
        self.shared = {
            (name, direction): tuple(sorted(old_uses[name, direction] | new_uses[name, direction]))
            for name, direction in old_uses.keys() & new_uses.keys()
            if name in old_schemas and name in new_schemas
        }
        """Shared schemas used in a direction by both documents: compared once each."""
        self.inline: set[tuple[str | None, str | None, Direction]] = set()
        """References being followed inline (they differ on each side): no endless loop."""

    def run(self) -> list[Change]:
        self.paths()
        for name, direction in sorted(self.shared, key=lambda key: (key[0], key[1].value)):
            context = _Context(direction, self.shared[name, direction])
            old = self.old["components"]["schemas"][name]
            new = self.new["components"]["schemas"][name]
            self.schema(old, new, context, f"schema {name}", shared_root=True)
        self.security_schemes()
        self.metadata()
        if not self.changes:  # differences in what no operation uses, at most
            for pointer in list(_changed_pointers(self.old, self.new))[:UNCLASSIFIED_SHOWN]:
                message = "a difference no operation uses"
                self.add(ADDITIVE, "unclassified-difference", pointer, message)
        unique = {change.id: change for change in self.changes}
        return sorted(unique.values(), key=lambda change: (change.severity != BREAKING, change.id))

    def add(
        self, severity: str, rule: str, where: str, message: str, used_by: tuple[str, ...] = ()
    ) -> None:
        self.changes.append(Change(severity, rule, where, message, used_by))

    def shift(self, context: _Context, shift: Shift, rule: str, where: str, message: str) -> None:
        severity = _severity(context.direction, shift)
        self.add(severity, f"{context.noun}-{rule}", where, message, context.used_by)

    def other_keys(
        self,
        old: Json,
        new: Json,
        handled: Collection[str],
        where: str,
        context: _Context | None = None,
    ) -> None:
        """Keys nothing else compares: documentation is additive, the unknown breaking.
        With a context (in a parameter, body, response or schema) the rule names its
        direction."""
        for key in sorted((old.keys() | new.keys()) - set(handled)):
            if old.get(key, _MISSING) == new.get(key, _MISSING):
                continue
            if key in ANNOTATIONS:
                shift, message = Shift.COMPATIBLE, f"`{key}` changed"
            else:
                shift, message = Shift.BREAKS, f"`{key}` changed (unknown here: taken as breaking)"
            if context is None:
                severity = BREAKING if shift is Shift.BREAKS else ADDITIVE
                self.add(severity, f"{key}-changed", where, message)
            else:
                self.shift(context, shift, f"{key}-changed", where, message)

    # Paths, operations and what they hold.

    def paths(self) -> None:
        old_paths = self.old.get("paths") or {}
        new_paths = self.new.get("paths") or {}
        for path in sorted(old_paths.keys() - new_paths.keys()):
            self.add(BREAKING, "path-removed", path, f"path {path} removed")
        for path in sorted(new_paths.keys() - old_paths.keys()):
            self.add(ADDITIVE, "path-added", path, f"new path {path}")
        old_operations = {label: pair for label, *pair in _operations(self.old)}
        new_operations = {label: pair for label, *pair in _operations(self.new)}
        for label in sorted(old_operations.keys() | new_operations.keys()):
            path = label.split(" ", 1)[1]
            if path not in old_paths or path not in new_paths:
                continue  # reported as a whole path
            if label not in new_operations:
                self.add(BREAKING, "operation-removed", label, f"operation {label} removed")
            elif label not in old_operations:
                self.add(ADDITIVE, "operation-added", label, f"new operation {label}")
            else:
                self.operation(label, old_operations[label], new_operations[label])

    def operation(self, label: str, old: list[Json], new: list[Json]) -> None:
        (old_operation, old_item), (new_operation, new_item) = old, new
        self.parameters(label, old_operation, old_item, new_operation, new_item)
        self.request_body(label, old_operation.get("requestBody"), new_operation.get("requestBody"))
        self.responses(label, old_operation.get("responses"), new_operation.get("responses"))
        self.security(label, old_operation, new_operation)
        old_id, new_id = old_operation.get("operationId"), new_operation.get("operationId")
        if old_id is not None and old_id != new_id:
            message = f"operationId {old_id} became {new_id} (generated clients rename the call)"
            self.add(BREAKING, "operation-id-changed", label, message)
        handled = ("parameters", "requestBody", "responses", "security", "operationId")
        self.other_keys(old_operation, new_operation, handled, label)

    def parameters(
        self, label: str, old_operation: Json, old_item: Json, new_operation: Json, new_item: Json
    ) -> None:
        old = _parameters(self.old, old_item, old_operation)
        new = _parameters(self.new, new_item, new_operation)
        context = _Context(Direction.REQUEST)
        for location, name in sorted(old.keys() | new.keys()):
            where = f"{label} {location} parameter {name}"
            before, after = old.get((location, name)), new.get((location, name))
            if after is None:
                message = f"{location} parameter `{name}` removed"
                self.add(BREAKING, "parameter-removed", where, message)
            elif before is None:
                if after.get("required"):
                    message = f"new required {location} parameter `{name}`"
                    self.add(BREAKING, "parameter-added-required", where, message)
                else:
                    message = f"new optional {location} parameter `{name}`"
                    self.add(ADDITIVE, "parameter-added", where, message)
            else:
                what = f"{location} parameter `{name}`"
                self.requirement(before, after, context, "parameter", what, where)
                self.schema(before.get("schema", {}), after.get("schema", {}), context, where)
                handled = ("name", "in", "required", "schema")
                self.other_keys(before, after, handled, where, context)

    def request_body(self, label: str, old: Json, new: Json) -> None:
        old, new = _deref(self.old, old), _deref(self.new, new)
        where = f"{label} request body"
        if old is None and new is None:
            return
        if new is None:
            self.add(BREAKING, "request-body-removed", where, "request body removed")
        elif old is None:
            if new.get("required"):
                self.add(BREAKING, "request-body-added-required", where, "new required body")
            else:
                self.add(ADDITIVE, "request-body-added", where, "new optional request body")
        else:
            context = _Context(Direction.REQUEST)
            self.requirement(old, new, context, "request-body", "request body", where)
            self.content(old.get("content", {}), new.get("content", {}), context, where)
            self.other_keys(old, new, ("required", "content"), where, context)

    def responses(self, label: str, old: Json, new: Json) -> None:
        old, new = old or {}, new or {}
        context = _Context(Direction.RESPONSE)
        for status in sorted(old.keys() | new.keys()):
            where = f"{label} response {status}"
            if status not in new:
                self.add(BREAKING, "status-removed", where, f"response status {status} removed")
            elif status not in old:
                self.add(ADDITIVE, "status-added", where, f"new response status {status}")
            else:
                before, after = _deref(self.old, old[status]), _deref(self.new, new[status])
                body = f"{where} body"
                self.content(before.get("content", {}), after.get("content", {}), context, body)
                self.headers(before.get("headers", {}), after.get("headers", {}), where)
                self.other_keys(before, after, ("content", "headers"), where, context)

    def content(self, old: Json, new: Json, context: _Context, where: str) -> None:
        for media in sorted(old.keys() | new.keys()):
            place = where if media == JSON_MEDIA else f"{where} ({media})"
            if media not in new:
                message = f"{context.noun} media type {media} removed"
                self.add(BREAKING, f"{context.noun}-media-type-removed", place, message)
            elif media not in old:
                message = f"new {context.noun} media type {media}"
                self.add(ADDITIVE, f"{context.noun}-media-type-added", place, message)
            else:
                before, after = old[media], new[media]
                self.schema(before.get("schema", {}), after.get("schema", {}), context, place)
                self.other_keys(before, after, ("schema",), place, context)

    def headers(self, old: Json, new: Json, where: str) -> None:
        old = {name.lower(): _deref(self.old, header) for name, header in old.items()}
        new = {name.lower(): _deref(self.new, header) for name, header in new.items()}
        context = _Context(Direction.RESPONSE)
        for name in sorted(old.keys() | new.keys()):
            place = f"{where} header {name}"
            before, after = old.get(name), new.get(name)
            if after is None:
                self.add(BREAKING, "header-removed", place, f"response header {name} removed")
            elif before is None:
                self.add(ADDITIVE, "header-added", place, f"new response header {name}")
            else:
                what = f"response header {name}"
                self.requirement(before, after, context, "header", what, place)
                self.schema(before.get("schema", {}), after.get("schema", {}), context, place)
                self.other_keys(before, after, ("required", "schema"), place, context)

    def requirement(
        self, old: Json, new: Json, context: _Context, kind: str, what: str, where: str
    ) -> None:
        """The ``required`` of a parameter, request body or header: made required, it
        narrows what may be left out (breaking for what clients send); made optional, it
        widens it (breaking for what they read)."""
        was, now = bool(old.get("required")), bool(new.get("required"))
        if was == now:
            return
        shift, became = (Shift.NARROWS, "required") if now else (Shift.WIDENS, "optional")
        severity = _severity(context.direction, shift)
        self.add(severity, f"{kind}-made-{became}", where, f"{what} made {became}")

    def security(self, label: str, old_operation: Json, new_operation: Json) -> None:
        def requirements(document: Json, operation: Json) -> set[str]:
            listed = operation.get("security", document.get("security")) or []
            return {_text(requirement) for requirement in listed}

        old, new = requirements(self.old, old_operation), requirements(self.new, new_operation)
        if old == new or (old and new > old):  # the same, or more ways to authenticate
            return
        if not new:
            self.add(ADDITIVE, "security-removed", label, "no longer requires authentication")
        elif not old:
            self.add(BREAKING, "security-added", label, "now requires authentication")
        else:
            message = f"security requirements {sorted(old)} became {sorted(new)}"
            self.add(BREAKING, "security-changed", label, message)

    def security_schemes(self) -> None:
        old = (self.old.get("components") or {}).get("securitySchemes") or {}
        new = (self.new.get("components") or {}).get("securitySchemes") or {}
        for name in sorted(old.keys() | new.keys()):
            where = f"security scheme {name}"
            if name not in new:
                self.add(BREAKING, "security-scheme-removed", where, f"{where} removed")
            elif name not in old:
                self.add(ADDITIVE, "security-scheme-added", where, f"new {where}")
            else:
                self.other_keys(old[name], new[name], (), where)

    def metadata(self) -> None:
        """``info``, ``servers``, ``tags``, the OpenAPI version: nothing a client calls."""
        for key in sorted((self.old.keys() | self.new.keys()) - {"paths", "components"}):
            if self.old.get(key, _MISSING) != self.new.get(key, _MISSING):
                self.add(ADDITIVE, "document-changed", key, f"`{key}` of the document changed")

    # Schemas.

    def schema(
        self, old: Json, new: Json, context: _Context, where: str, shared_root: bool = False
    ) -> None:
        before, after = _view(old), _view(new)
        if (
            not shared_root
            and before.ref is not None
            and before.ref == after.ref
            and (before.ref.removeprefix(SCHEMA_REFS), context.direction) in self.shared
        ):
            # The shared schema is compared on its own, once; here only the reference.
            self.nullability(before, after, context, where)
            self.other_keys(before.keywords, after.keywords, (), where, context)
            return
        if before.ref is None and after.ref is None:
            self.resolved(before, after, context, where)
            return
        following = (before.ref, after.ref, context.direction)
        if following in self.inline:
            return  # a schema that holds itself, already being compared further up
        self.inline.add(following)
        try:
            self.resolved(_resolve(self.old, before), _resolve(self.new, after), context, where)
        finally:
            self.inline.discard(following)

    def resolved(self, old: _View, new: _View, context: _Context, where: str) -> None:
        self.nullability(old, new, context, where)
        if not self.types(old, new, context, where):
            return  # a value of another type: what it holds no longer compares
        self.alternatives(old, new, context, where)
        before, after = old.keywords, new.keywords
        self.enum(before, after, context, where)
        self.constraints(before, after, context, where)
        self.fields(before, after, context, where)
        self.additional_properties(before, after, context, where)
        if "items" in before or "items" in after:
            items = f"{where}[]"
            self.schema(before.get("items", {}), after.get("items", {}), context, items)
        if before.get("default", _MISSING) != after.get("default", _MISSING):
            shift = Shift.BREAKS if context.direction is Direction.REQUEST else Shift.COMPATIBLE
            message = f"default {_text(before.get('default'))} became {_text(after.get('default'))}"
            self.shift(context, shift, "default-changed", where, message)
        self.other_keys(before, after, SCHEMA_KEYWORDS, where, context)

    def nullability(self, old: _View, new: _View, context: _Context, where: str) -> None:
        if old.nullable and not new.nullable:
            message = f"{context.noun} value nullable made non-null"
            self.shift(context, Shift.NARROWS, "made-non-null", where, message)
        elif new.nullable and not old.nullable:
            message = f"{context.noun} value made nullable"
            self.shift(context, Shift.WIDENS, "made-nullable", where, message)

    def types(self, old: _View, new: _View, context: _Context, where: str) -> bool:
        """Compare the types; False when they changed so that neither contains the other."""
        if old.types == new.types:
            return True
        change = f"type {_type_text(old.types)} became {_type_text(new.types)}"
        if _covers(new.types, old.types):
            self.shift(context, Shift.WIDENS, "type-widened", where, f"{context.noun} {change}")
            return True
        if _covers(old.types, new.types):
            self.shift(context, Shift.NARROWS, "type-narrowed", where, f"{context.noun} {change}")
            return True
        self.shift(context, Shift.BREAKS, "type-changed", where, f"{context.noun} {change}")
        return False

    def alternatives(self, old: _View, new: _View, context: _Context, where: str) -> None:
        if old.alternatives is None and new.alternatives is None:
            return
        if old.alternatives is None or new.alternatives is None:
            became = "one of several schemas" if old.alternatives is None else "a single schema"
            message = f"{context.noun} value made {became}"
            single, several = (old, new) if old.alternatives is None else (new, old)
            labels = {_label(member) for member in several.alternatives or ()}
            if _type_text(single.types) not in labels and single.ref not in labels:
                self.shift(context, Shift.BREAKS, "alternatives-changed", where, message)
            elif old.alternatives is None:
                self.shift(context, Shift.WIDENS, "alternatives-added", where, message)
            else:
                self.shift(context, Shift.NARROWS, "alternatives-removed", where, message)
            return
        before = {_label(member): member for member in old.alternatives}
        after = {_label(member): member for member in new.alternatives}
        for label in sorted(before.keys() | after.keys()):
            place = f"{where}|{label}"
            if label not in after:
                message = f"{context.noun} alternative {label} removed"
                self.shift(context, Shift.NARROWS, "alternative-removed", place, message)
            elif label not in before:
                message = f"new {context.noun} alternative {label}"
                self.shift(context, Shift.WIDENS, "alternative-added", place, message)
            else:
                self.schema(before[label], after[label], context, place)

    def enum(self, old: Json, new: Json, context: _Context, where: str) -> None:
        def values(keywords: Json) -> dict[str, Json] | None:
            if "enum" in keywords:
                return {_text(value): value for value in keywords["enum"]}
            if "const" in keywords:
                return {_text(keywords["const"]): keywords["const"]}
            return None

        before, after = values(old), values(new)
        if before is None and after is None:
            return
        if before is None:
            message = f"{context.noun} value limited to {sorted(after or ())}"
            self.shift(context, Shift.NARROWS, "enum-added", where, message)
        elif after is None:
            message = f"{context.noun} value no longer limited to {sorted(before)}"
            self.shift(context, Shift.WIDENS, "enum-removed", where, message)
        else:
            for value in sorted(before.keys() - after.keys()):
                message = f"{context.noun} enum value {value} removed"
                place = f"{where} value {value}"
                self.shift(context, Shift.BREAKS, "enum-value-removed", place, message)
            for value in sorted(after.keys() - before.keys()):
                message = f"new {context.noun} enum value {value}"
                place = f"{where} value {value}"
                self.shift(context, Shift.WIDENS, "enum-value-added", place, message)

    def constraints(self, old: Json, new: Json, context: _Context, where: str) -> None:
        for key, lower in [(key, True) for key in LOWER_BOUNDS] + [
            (key, False) for key in UPPER_BOUNDS
        ]:
            before, after = old.get(key), new.get(key)
            if before == after:
                continue
            if before is None or after is None:
                tighter = before is None
            elif isinstance(before, bool) or isinstance(after, bool):
                tighter = bool(after)  # 3.0's boolean exclusiveMinimum/Maximum
            else:
                tighter = after > before if lower else after < before
            message = f"{context.noun} `{key}` {_text(before)} became {_text(after)}"
            if tighter:
                self.shift(context, Shift.NARROWS, f"{key}-tightened", where, message)
            else:
                self.shift(context, Shift.WIDENS, f"{key}-loosened", where, message)
        for key in EXACT_CONSTRAINTS:
            before, after = old.get(key), new.get(key)
            message = f"{context.noun} `{key}` {_text(before)} became {_text(after)}"
            if before == after:
                continue
            if before is None:
                self.shift(context, Shift.NARROWS, f"{key}-added", where, message)
            elif after is None:
                self.shift(context, Shift.WIDENS, f"{key}-removed", where, message)
            else:
                self.shift(context, Shift.BREAKS, f"{key}-changed", where, message)
        if bool(old.get("uniqueItems")) != bool(new.get("uniqueItems")):
            shift = Shift.NARROWS if new.get("uniqueItems") else Shift.WIDENS
            must = "must" if new.get("uniqueItems") else "need not"
            message = f"{context.noun} items {must} be unique"
            self.shift(context, shift, "uniqueItems-changed", where, message)

    def fields(self, old: Json, new: Json, context: _Context, where: str) -> None:
        before, after = old.get("properties", {}), new.get("properties", {})
        required_before, required_after = set(old.get("required", [])), set(new.get("required", []))
        names = before.keys() | after.keys() | required_before | required_after
        for name in sorted(names):
            place = f"{where}.{name}"
            if name in before and name not in after:
                message = f"{context.noun} field `{name}` removed"
                self.shift(context, Shift.BREAKS, "field-removed", place, message)
                continue
            if name in after and name not in before:
                if name in required_after:
                    message = f"new required {context.noun} field `{name}`"
                    self.shift(context, Shift.NARROWS, "required-field-added", place, message)
                else:
                    message = f"new optional {context.noun} field `{name}`"
                    self.shift(context, Shift.COMPATIBLE, "field-added", place, message)
                continue
            if name in required_after and name not in required_before:
                message = f"optional {context.noun} field `{name}` made required"
                self.shift(context, Shift.NARROWS, "field-made-required", place, message)
            elif name in required_before and name not in required_after:
                message = f"required {context.noun} field `{name}` made optional"
                self.shift(context, Shift.WIDENS, "field-made-optional", place, message)
            if name in before:
                self.schema(before[name], after[name], context, place)

    def additional_properties(self, old: Json, new: Json, context: _Context, where: str) -> None:
        def normal(value: Json) -> Json:
            return True if value in (None, {}) else value

        before = normal(old.get("additionalProperties"))
        after = normal(new.get("additionalProperties"))
        if isinstance(before, dict) and isinstance(after, dict):
            self.schema(before, after, context, f"{where}{{}}")
            return
        if before == after:
            return
        # Open (True) allows the most, a schema less, closed (False) nothing.
        openness = {True: 2, False: 0}
        wider = openness.get(after, 1) > openness.get(before, 1)
        shift = Shift.WIDENS if wider else Shift.NARROWS
        if context.direction is Direction.RESPONSE:
            shift = Shift.COMPATIBLE  # clients ignore fields they do not know
        message = f"{context.noun} unknown fields: {_text(before)} became {_text(after)}"
        self.shift(context, shift, "additional-properties-changed", where, message)
