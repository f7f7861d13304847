"""The classifier of the API contract (tests/support/openapi_diff.py) on small hand-written
documents: each breaking class is caught, each additive one is called additive, in both
directions (what clients send, what they read), inline and through shared schemas.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.openapi_diff import ADDITIVE, BREAKING, Change, compare, render

Document = dict[str, Any]
NULLABLE_STRING = {"anyOf": [{"type": "string"}, {"type": "null"}]}


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def error() -> dict[str, Any]:
    return {"description": "Error", "content": json_body({"type": "object"})}


def base() -> Document:
    """Two paths, four operations, a shared request and response schema, a schema that
    holds itself, and inline schemas: enough for every class."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {
            "/users": {
                "post": {
                    "operationId": "CreateUser",
                    "requestBody": {
                        "required": True,
                        "content": json_body({"$ref": "#/components/schemas/NewUser"}),
                    },
                    "responses": {
                        "201": {
                            "description": "Created",
                            "content": json_body({"$ref": "#/components/schemas/User"}),
                        },
                        "409": error(),
                    },
                },
                "get": {
                    "operationId": "ListUsers",
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "maximum": 200},
                        },
                        {"name": "cursor", "in": "query", "schema": NULLABLE_STRING},
                    ],
                    "responses": {
                        "200": {
                            "description": "A page",
                            "content": json_body(
                                {
                                    "type": "object",
                                    "properties": {
                                        "items": {
                                            "type": "array",
                                            "items": {"$ref": "#/components/schemas/User"},
                                        },
                                        "next": {"oneOf": [{"type": "string"}, {"type": "null"}]},
                                    },
                                    "required": ["items", "next"],
                                }
                            ),
                            "headers": {
                                "X-Request-ID": {"required": True, "schema": {"type": "string"}}
                            },
                        }
                    },
                },
            },
            "/users/{id}": {
                "get": {
                    "operationId": "GetUser",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {
                            "description": "A user",
                            "content": json_body({"$ref": "#/components/schemas/User"}),
                        },
                        "404": error(),
                    },
                },
                "patch": {
                    "operationId": "UpdateUser",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "requestBody": {
                        "required": True,
                        "content": json_body(
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "properties": {
                                    "nickname": {"type": ["string", "null"]},
                                    "role": {"type": "string", "enum": ["admin", "member"]},
                                    "manager": {"$ref": "#/components/schemas/Node"},
                                },
                                "required": ["nickname"],
                            }
                        ),
                    },
                    "responses": {
                        "200": {
                            "description": "Updated",
                            "content": json_body({"$ref": "#/components/schemas/User"}),
                        }
                    },
                },
            },
        },
        "components": {
            "schemas": {
                "User": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "email": {"type": "string"},
                        "nickname": {"oneOf": [{"type": "string"}, {"type": "null"}]},
                        "role": {"type": "string", "enum": ["admin", "member"]},
                        "logins": {"type": "integer"},
                        "bio": {"type": "string"},
                    },
                    "required": ["id", "email", "nickname", "role", "logins"],
                },
                "NewUser": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "email": {"type": "string", "maxLength": 254},
                        "nickname": NULLABLE_STRING,
                        "age": {"type": ["integer", "null"]},
                        "role": {"type": "string", "enum": ["admin", "member"]},
                    },
                    "required": ["email"],
                },
                "Node": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "parent": {
                            "anyOf": [{"$ref": "#/components/schemas/Node"}, {"type": "null"}]
                        },
                    },
                },
            }
        },
    }


Edit = Callable[[Document], None]


def changed(edit: Edit) -> list[Change]:
    old = base()
    new = copy.deepcopy(old)
    edit(new)
    return compare(old, new)


def only(edit: Edit) -> Change:
    changes = changed(edit)
    assert len(changes) == 1, render(changes)
    return changes[0]


# The parts the edits change, in place.


def schema(document: Document, name: str) -> Any:
    return document["components"]["schemas"][name]


def operation(document: Document, method: str, path: str) -> Any:
    return document["paths"][path][method]


def update_body(document: Document) -> Any:
    body = operation(document, "patch", "/users/{id}")["requestBody"]
    return body["content"]["application/json"]["schema"]


def page(document: Document) -> Any:
    response = operation(document, "get", "/users")["responses"]["200"]
    return response["content"]["application/json"]["schema"]


def parameter(document: Document, name: str) -> Any:
    (found,) = (p for p in operation(document, "get", "/users")["parameters"] if p["name"] == name)
    return found


# Each edit, with the id of the one change it makes. Changes that need another starting
# point than base() (a narrowing, a closing, a removed requirement) have tests of their own
# further down.

BREAKING_CASES: list[tuple[str, Edit, str]] = [
    (
        "a removed path",
        lambda d: d["paths"].pop("/users/{id}"),
        "path-removed /users/{id}",
    ),
    (
        "a removed operation",
        lambda d: d["paths"]["/users"].pop("get"),
        "operation-removed GET /users",
    ),
    (
        "a removed field of a shared response schema",
        lambda d: (
            schema(d, "User")["properties"].pop("email"),
            schema(d, "User")["required"].remove("email"),
        ),
        "response-field-removed schema User.email",
    ),
    (
        "a removed field of an inline response schema",
        lambda d: (page(d)["properties"].pop("next"), page(d)["required"].remove("next")),
        "response-field-removed GET /users response 200 body.next",
    ),
    (
        "a removed optional response field",
        lambda d: schema(d, "User")["properties"].pop("bio"),
        "response-field-removed schema User.bio",
    ),
    (
        "a removed request field",
        lambda d: schema(d, "NewUser")["properties"].pop("age"),
        "request-field-removed schema NewUser.age",
    ),
    (
        "a removed status code",
        lambda d: operation(d, "get", "/users/{id}")["responses"].pop("404"),
        "status-removed GET /users/{id} response 404",
    ),
    (
        "a removed enum value of a request field",
        lambda d: schema(d, "NewUser")["properties"]["role"].update(enum=["member"]),
        "request-enum-value-removed schema NewUser.role value admin",
    ),
    (
        "a removed enum value of a response field",
        lambda d: schema(d, "User")["properties"]["role"].update(enum=["member"]),
        "response-enum-value-removed schema User.role value admin",
    ),
    (
        "a new enum value of a response field",
        lambda d: schema(d, "User")["properties"]["role"]["enum"].append("owner"),
        "response-enum-value-added schema User.role value owner",
    ),
    (
        "a new required request field",
        lambda d: (
            schema(d, "NewUser")["properties"].update(password={"type": "string"}),
            schema(d, "NewUser")["required"].append("password"),
        ),
        "request-required-field-added schema NewUser.password",
    ),
    (
        "a new required parameter",
        lambda d: operation(d, "get", "/users")["parameters"].append(
            {"name": "team", "in": "query", "required": True, "schema": {"type": "string"}}
        ),
        "parameter-added-required GET /users query parameter team",
    ),
    (
        "an optional parameter made required",
        lambda d: parameter(d, "limit").update(required=True),
        "parameter-made-required GET /users query parameter limit",
    ),
    (
        "a type change of a response field",
        lambda d: schema(d, "User")["properties"]["logins"].update(type="string"),
        "response-type-changed schema User.logins",
    ),
    (
        "a type change of a request field",
        lambda d: schema(d, "NewUser")["properties"]["email"].update(type="integer"),
        "request-type-changed schema NewUser.email",
    ),
    (
        "a type change of a parameter",
        lambda d: parameter(d, "limit")["schema"].update(type="string"),
        "request-type-changed GET /users query parameter limit",
    ),
    (
        "an optional request field made required",
        lambda d: schema(d, "NewUser")["required"].append("role"),
        "request-field-made-required schema NewUser.role",
    ),
    (
        "an optional anyOf [T, null] request field made required (what Optic misses)",
        lambda d: schema(d, "NewUser")["required"].append("nickname"),
        "request-field-made-required schema NewUser.nickname",
    ),
    (
        "a nullable request field made non-null: anyOf [T, null] -> T, through a $ref",
        lambda d: schema(d, "NewUser")["properties"].update(nickname={"type": "string"}),
        "request-made-non-null schema NewUser.nickname",
    ),
    (
        "a nullable request field made non-null: type [T, null] -> T, through a $ref",
        lambda d: schema(d, "NewUser")["properties"].update(age={"type": "integer"}),
        "request-made-non-null schema NewUser.age",
    ),
    (
        "a nullable request field made non-null: type [T, null] -> T, inline",
        lambda d: update_body(d)["properties"].update(nickname={"type": "string"}),
        "request-made-non-null PATCH /users/{id} request body.nickname",
    ),
    (
        "a nullable parameter made non-null: anyOf [T, null] -> T",
        lambda d: parameter(d, "cursor").update(schema={"type": "string"}),
        "request-made-non-null GET /users query parameter cursor",
    ),
    (
        "a nullable reference made non-null: anyOf [$ref, null] -> $ref",
        lambda d: schema(d, "Node")["properties"].update(
            parent={"$ref": "#/components/schemas/Node"}
        ),
        "request-made-non-null schema Node.parent",
    ),
    (
        "a required response field made optional",
        lambda d: schema(d, "User")["required"].remove("logins"),
        "response-field-made-optional schema User.logins",
    ),
    (
        "a non-null response field made nullable",
        lambda d: schema(d, "User")["properties"].update(
            email={"anyOf": [{"type": "string"}, {"type": "null"}]}
        ),
        "response-made-nullable schema User.email",
    ),
    (
        "a tighter bound on a request field",
        lambda d: schema(d, "NewUser")["properties"]["email"].update(maxLength=100),
        "request-maxLength-tightened schema NewUser.email",
    ),
    (
        "a removed response header",
        lambda d: operation(d, "get", "/users")["responses"]["200"].pop("headers"),
        "header-removed GET /users response 200 header x-request-id",
    ),
    (
        "a response header made optional",
        lambda d: operation(d, "get", "/users")["responses"]["200"]["headers"][
            "X-Request-ID"
        ].update(required=False),
        "header-made-optional GET /users response 200 header x-request-id",
    ),
    (
        "a route that now requires authentication",
        lambda d: operation(d, "get", "/users").update(security=[{"Bearer": []}]),
        "security-added GET /users",
    ),
    (
        "a renamed operationId",
        lambda d: operation(d, "get", "/users").update(operationId="Users"),
        "operation-id-changed GET /users",
    ),
    (
        "a changed default of a request value",
        lambda d: parameter(d, "limit")["schema"].update(default=10),
        "request-default-changed GET /users query parameter limit",
    ),
    (
        "a keyword the classifier does not know",
        lambda d: schema(d, "NewUser")["properties"]["email"].update(
            {"not": {"const": "root@example.com"}}
        ),
        "request-not-changed schema NewUser.email",
    ),
]

ADDITIVE_CASES: list[tuple[str, Edit, str]] = [
    (
        "a new path",
        lambda d: d["paths"].update({"/health": {"get": {"responses": {"200": error()}}}}),
        "path-added /health",
    ),
    (
        "a new operation",
        lambda d: d["paths"]["/users/{id}"].update(delete={"responses": {"204": error()}}),
        "operation-added DELETE /users/{id}",
    ),
    (
        "a new optional request field",
        lambda d: schema(d, "NewUser")["properties"].update(bio={"type": "string"}),
        "request-field-added schema NewUser.bio",
    ),
    (
        "a new optional parameter",
        lambda d: operation(d, "get", "/users")["parameters"].append(
            {"name": "q", "in": "query", "schema": {"type": "string"}}
        ),
        "parameter-added GET /users query parameter q",
    ),
    (
        "a new response field",
        lambda d: (
            schema(d, "User")["properties"].update(team={"type": "string"}),
            schema(d, "User")["required"].append("team"),
        ),
        "response-required-field-added schema User.team",
    ),
    (
        "a new status code",
        lambda d: operation(d, "get", "/users")["responses"].update({"429": error()}),
        "status-added GET /users response 429",
    ),
    (
        "a new enum value of a request field",
        lambda d: schema(d, "NewUser")["properties"]["role"]["enum"].append("owner"),
        "request-enum-value-added schema NewUser.role value owner",
    ),
    (
        "a required request field made optional",
        lambda d: schema(d, "NewUser")["required"].remove("email"),
        "request-field-made-optional schema NewUser.email",
    ),
    (
        "a non-null request field made nullable",
        lambda d: schema(d, "NewUser")["properties"]["email"].update(type=["string", "null"]),
        "request-made-nullable schema NewUser.email",
    ),
    (
        "a required parameter made optional",
        lambda d: operation(d, "get", "/users/{id}")["parameters"][0].update(required=False),
        "parameter-made-optional GET /users/{id} path parameter id",
    ),
    (
        "an optional response field made required",
        lambda d: schema(d, "User")["required"].append("bio"),
        "response-field-made-required schema User.bio",
    ),
    (
        "a nullable response field made non-null",
        lambda d: schema(d, "User")["properties"].update(nickname={"type": "string"}),
        "response-made-non-null schema User.nickname",
    ),
    (
        "a looser bound on a request value",
        lambda d: parameter(d, "limit")["schema"].update(maximum=500),
        "request-maximum-loosened GET /users query parameter limit",
    ),
    (
        "a widened request type (integer to number)",
        lambda d: parameter(d, "limit")["schema"].update(type="number"),
        "request-type-widened GET /users query parameter limit",
    ),
    (
        "a request body opened to unknown fields",
        lambda d: update_body(d).pop("additionalProperties"),
        "request-additional-properties-changed PATCH /users/{id} request body",
    ),
    (
        "a required request body made optional",
        lambda d: operation(d, "post", "/users")["requestBody"].update(required=False),
        "request-body-made-optional POST /users request body",
    ),
    (
        "a new response header",
        lambda d: operation(d, "get", "/users/{id}")["responses"]["404"].update(
            headers={"Retry-After": {"schema": {"type": "integer"}}}
        ),
        "header-added GET /users/{id} response 404 header retry-after",
    ),
    (
        "a changed description",
        lambda d: operation(d, "get", "/users")["responses"]["200"].update(description="Users"),
        "response-description-changed GET /users response 200",
    ),
    (
        "a changed description in a shared schema",
        lambda d: schema(d, "User")["properties"]["email"].update(description="Where to write"),
        "response-description-changed schema User.email",
    ),
    (
        "a newer version of the document",
        lambda d: d["info"].update(version="2"),
        "document-changed info",
    ),
    (
        "a new shared schema nothing uses",
        lambda d: d["components"]["schemas"].update(Unused={"type": "object"}),
        "unclassified-difference /components/schemas/Unused",
    ),
]


@pytest.mark.parametrize(
    ("edit", "change_id"), [c[1:] for c in BREAKING_CASES], ids=[c[0] for c in BREAKING_CASES]
)
def test_each_breaking_class_is_caught(edit: Edit, change_id: str) -> None:
    change = only(edit)

    assert (change.severity, change.id) == (BREAKING, change_id), render([change])


@pytest.mark.parametrize(
    ("edit", "change_id"), [c[1:] for c in ADDITIVE_CASES], ids=[c[0] for c in ADDITIVE_CASES]
)
def test_each_additive_class_is_additive(edit: Edit, change_id: str) -> None:
    change = only(edit)

    assert (change.severity, change.id) == (ADDITIVE, change_id), render([change])


def test_the_same_document_has_no_changes() -> None:
    assert compare(base(), base()) == []


def test_a_narrowed_request_type_is_breaking_and_a_narrowed_response_type_additive() -> None:
    def numbers(document: Document) -> None:
        parameter(document, "limit")["schema"]["type"] = "number"
        schema(document, "User")["properties"]["logins"]["type"] = "number"

    old = base()
    numbers(old)
    changes = {change.id: change.severity for change in compare(old, base())}

    assert changes == {
        "request-type-narrowed GET /users query parameter limit": BREAKING,
        "response-type-narrowed schema User.logins": ADDITIVE,
    }


def test_a_request_body_closed_against_unknown_fields_is_breaking() -> None:
    old = base()
    update_body(old).pop("additionalProperties")
    (change,) = compare(old, base())

    assert (change.severity, change.id) == (
        BREAKING,
        "request-additional-properties-changed PATCH /users/{id} request body",
    )


def test_a_replaced_response_media_type_is_one_removal_and_one_addition() -> None:
    def xml_only(document: Document) -> None:
        content = operation(document, "get", "/users/{id}")["responses"]["200"]["content"]
        content["application/xml"] = content.pop("application/json")

    changes = {change.id: change.severity for change in changed(xml_only)}

    assert changes == {
        "response-media-type-removed GET /users/{id} response 200 body": BREAKING,
        "response-media-type-added GET /users/{id} response 200 body (application/xml)": ADDITIVE,
    }


def test_a_route_that_no_longer_requires_authentication_is_additive() -> None:
    old = base()
    operation(old, "get", "/users")["security"] = [{"Bearer": []}]
    (change,) = compare(old, base())

    assert (change.severity, change.id) == (ADDITIVE, "security-removed GET /users")


def test_a_change_in_a_shared_schema_is_one_change_naming_every_operation_using_it() -> None:
    def drop_email(document: Document) -> None:
        schema(document, "User")["properties"].pop("email")
        schema(document, "User")["required"].remove("email")

    (change,) = changed(drop_email)

    assert change.used_by == (
        "GET /users response 200",  # through the page's items
        "GET /users/{id} response 200",
        "PATCH /users/{id} response 200",
        "POST /users response 201",
    )


def test_a_schema_used_both_ways_is_judged_in_each_direction() -> None:
    def share(document: Document) -> None:
        """NewUser becomes also what GET /users/{id} answers."""
        response = operation(document, "get", "/users/{id}")["responses"]["200"]
        response["content"] = json_body({"$ref": "#/components/schemas/NewUser"})

    old, new = base(), base()
    share(old)
    share(new)
    schema(new, "NewUser")["properties"]["role"]["enum"].append("owner")
    changes = {change.id: change.severity for change in compare(old, new)}

    assert changes == {
        "request-enum-value-added schema NewUser.role value owner": ADDITIVE,
        "response-enum-value-added schema NewUser.role value owner": BREAKING,
    }


def test_a_shared_schema_replaced_inline_is_compared_by_its_content() -> None:
    def inline_user(document: Document) -> None:
        response = operation(document, "get", "/users/{id}")["responses"]["200"]
        user = copy.deepcopy(schema(document, "User"))
        user["properties"].pop("logins")
        user["required"].remove("logins")
        response["content"] = json_body(user)

    (change,) = changed(inline_user)

    assert (change.severity, change.id) == (
        BREAKING,
        "response-field-removed GET /users/{id} response 200 body.logins",
    )


def test_a_schema_that_holds_itself_is_compared_without_end() -> None:
    def rename_node(document: Document) -> None:
        """Node becomes Tree (the same shape, holding itself): compared inline."""
        tree = document["components"]["schemas"].pop("Node")
        tree["properties"]["parent"]["anyOf"][0]["$ref"] = "#/components/schemas/Tree"
        tree["properties"]["name"]["type"] = "integer"
        document["components"]["schemas"]["Tree"] = tree
        update_body(document)["properties"]["manager"] = {"$ref": "#/components/schemas/Tree"}

    (change,) = changed(rename_node)

    assert (change.severity, change.id) == (
        BREAKING,
        "request-type-changed PATCH /users/{id} request body.manager.name",
    )


def test_the_report_names_what_changed_where_and_who_uses_it() -> None:
    def drop_email(document: Document) -> None:
        schema(document, "User")["properties"].pop("email")
        schema(document, "User")["required"].remove("email")

    report = render(changed(drop_email))

    assert report.splitlines() == [
        "BREAKING: response field `email` removed, at schema User.email [NOT ACCEPTED]",
        "    used by: GET /users response 200",
        "             GET /users/{id} response 200",
        "             PATCH /users/{id} response 200",
        "             POST /users response 201",
        "    id: response-field-removed schema User.email",
    ]


def test_the_report_marks_accepted_breaking_changes() -> None:
    changes = changed(lambda d: d["paths"].pop("/users/{id}"))

    assert render(changes, accepted={"path-removed /users/{id}"}).splitlines()[0] == (
        "BREAKING: path /users/{id} removed, at /users/{id} [accepted]"
    )
