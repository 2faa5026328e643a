"""The OpenAPI 3.1 document, generated from the schemas that validate the queries and serialize
the answers, so it cannot drift from what the endpoints do.

Each app gets its own document, built on first use: the query parameters come from the app's own
argument schemas (its page size, the fields each ``sort`` may name, whether rows carry ``name``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin, resolver
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from flask import Flask
from marshmallow import Schema, fields

from . import config, errors, schemas
from .endpoints import FAMILIES, Endpoint
from .state import current
from .version import __version__

OPENAPI_VERSION = "3.1.0"

#: Where the document is cached, in ``app.extensions`` beside the extension's own state.
CACHE_KEY = "livechat_analytics.openapi"

_ERROR_SCHEMAS: tuple[type[Schema], ...] = (
    schemas.ErrorSchema,
    schemas.InvalidParamsErrorSchema,
    schemas.NotLoggedInErrorSchema,
    schemas.DatabaseUnavailableErrorSchema,
    schemas.QueryTimeoutErrorSchema,
)

_DESCRIPTION = """\
Rocket.Chat's Omnichannel analytics REST API, read from the livechat server's own database.

Every endpoint needs a user who holds the Rocket.Chat permission its description names \
(`view-livechat-manager` for most). Errors share one JSON shape: `success` false and a readable \
`error`, with `errorType` and `details` where they apply."""

def document(app: Flask, *, root: str = "") -> dict[str, Any]:
    """The document of ``app``'s API, its server URL under ``root`` (the WSGI script root)."""
    built = app.extensions.get(CACHE_KEY)
    if built is None:
        # Two first requests may both build it; they build the same document.
        built = app.extensions.setdefault(CACHE_KEY, build(app))
    prefix = config.read(app.config, "URL_PREFIX")
    return {**built, "servers": [{"url": root + prefix or "/"}]}


def build(app: Flask) -> dict[str, Any]:
    """Generate the document of ``app``'s API (uncached: :func:`document` keeps it)."""
    state = current(app)
    authenticator = state.authenticator
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="Livechat analytics",
        version=__version__,
        openapi_version=OPENAPI_VERSION,
        plugins=[plugin],
        info={"description": _DESCRIPTION},
        servers=[{"url": config.read(app.config, "URL_PREFIX") or "/"}],
        tags=[{"name": family.name, "description": family.description} for family in FAMILIES],
        # The authenticator in use says how a caller logs in; a host's own may declare nothing.
        **({"security": authenticator.security} if authenticator.security else {}),
    )
    _teach(plugin)
    for name, scheme in (authenticator.security_schemes or {}).items():
        spec.components.security_scheme(name, scheme)
    for schema in _ERROR_SCHEMAS:
        spec.components.schema(resolver(schema), schema=schema)
    for name, response in _error_responses().items():
        spec.components.response(name, response)
    for family in FAMILIES:
        for endpoint in family.endpoints:
            body = _register(spec, endpoint, names=state.department_names)
            operation = _operation(endpoint, family.name, state.args_schemas[endpoint.path], body)
            spec.path(path="/" + endpoint.path, operations={"get": operation})
    built = spec.to_dict()
    # Readers look for the version first.
    return {"openapi": built.pop("openapi"), **built}


def _register(spec: APISpec, endpoint: Endpoint, *, names: bool) -> Schema:
    """Add the endpoint's response schema (and the schemas it nests) to the components.

    Schemas that serialize mark no field required: every body has all of its keys, and every row
    its id and values (``name`` only when department names are on). A body that is an array
    (``many``) is documented as an array of its schema; one keyed by names (a ``value`` schema per
    name, besides ``success``) allows those names as additional properties.
    """
    response = endpoint.response
    # Endpoints may share their schemas (the reports do): each is a component once.
    known = spec.components.schemas
    for field in response.fields.values():
        nested = getattr(getattr(field, "inner", None), "nested", None)
        if isinstance(nested, type) and issubclass(nested, Schema) and resolver(nested) not in known:
            optional = {"name", *getattr(nested, "OPTIONAL_FIELDS", ())}
            required = [name for name in nested._declared_fields if name not in optional]
            required += ["name"] if names and "name" in nested._declared_fields else []
            spec.components.schema(resolver(nested), {"required": required}, schema=nested)
    # An array body is documented by its item schema; apispec takes an instance for a class.
    body = type(response) if response.many else response
    name = resolver(body)  # type: ignore[arg-type]
    if name not in known:
        # A body keyed by names (a chart per agent, say) declares its value schema as ``value``.
        value = getattr(body, "value", None)
        absent = getattr(body, "OPTIONAL_FIELDS", ())
        every = [key for key in response.fields if key not in absent]
        required = ["success"] if isinstance(value, type) else every
        spec.components.schema(name, {"required": required}, schema=body)
        if isinstance(value, type) and issubclass(value, Schema):
            if resolver(value) not in known:
                required = list(value._declared_fields)
                spec.components.schema(resolver(value), {"required": required}, schema=value)
            known[name]["additionalProperties"] = {"$ref": f"#/components/schemas/{resolver(value)}"}
    return response


#: Every operation's last words: who sees what.
_SCOPE = (
    " Once business units exist, a `livechat-monitor` who is neither `admin` nor `livechat-manager` "
    "gets the numbers of the rooms of the units they monitor (and of the departments they serve) "
    "only; a `departmentId` outside them answers as an empty department."
)


def _operation(endpoint: Endpoint, tag: str, args: schemas.ArgsSchema, response: Schema) -> dict[str, Any]:
    permission = f" Needs the `{endpoint.permission}` permission."
    content: dict[str, Any] = {"schema": response}
    if endpoint.example is not None:
        # A copy: a mapping, or the list of a body that is an array.
        example = endpoint.example
        content["example"] = dict(example) if isinstance(example, Mapping) else list(example)
    return {
        "operationId": endpoint.path.replace("/", "-"),
        "tags": [tag],
        "summary": endpoint.summary,
        "description": endpoint.summary + endpoint.description + permission + _SCOPE,
        "parameters": [{"in": "query", "schema": args}],
        "responses": {
            "200": {
                "description": (response.__doc__ or "The answer.").split("\n\n")[0],
                "content": {"application/json": content, "text/csv": _CSV},
                "headers": {"Content-Disposition": _CSV_FILE},
            },
            "400": "InvalidParams",
            "401": "NotLoggedIn",
            "403": "Forbidden",
            "404": "NotFound",
            "405": "MethodNotAllowed",
            "500": "ServerError",
            "503": "DatabaseUnavailable",
            "504": "QueryTimeout",
        },
    }


#: The CSV of every 200 (``format=csv`` or ``Accept: text/csv``); errors stay JSON.
_CSV = {
    "schema": {
        "type": "string",
        "description": "With `format=csv` or `Accept: text/csv`: UTF-8 CSV, a header row of the JSON "
        "field names, then one line per row (every row of a page unless `count` is given), streamed. "
        "A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is prefixed "
        "with `'`. Errors stay JSON.",
    }
}
_CSV_FILE = {
    "description": 'CSV only: `attachment; filename="<endpoint>_<start>_<end>.csv"`.',
    "schema": {"type": "string"},
}


def _error_responses() -> dict[str, dict[str, Any]]:
    """The error answers, shared by every operation; examples come from :mod:`.errors` itself."""

    def answer(description: str, schema: type[Schema], example: dict | None = None) -> dict[str, Any]:
        content: dict[str, Any] = {"schema": schema}
        if example is not None:
            content["example"] = example
        return {"description": description, "content": {"application/json": content}}

    invalid = {"start": [str(schemas.Instant.default_error_messages["invalid"])]}
    method_not_allowed = answer("The endpoint answers GET (and HEAD, OPTIONS) only.", schemas.ErrorSchema)
    method_not_allowed["headers"] = {
        "Allow": {"description": "The methods the path answers.", "schema": {"type": "string"}}
    }
    return {
        "InvalidParams": answer(
            "A query parameter is missing, unknown, repeated or invalid: `details` has the messages "
            "per parameter.",
            schemas.InvalidParamsErrorSchema,
            errors.invalid_params(invalid).body,
        ),
        "NotLoggedIn": answer(
            "A header is missing, or the user is unknown, inactive or the token wrong.",
            schemas.NotLoggedInErrorSchema,
            errors.not_logged_in().body,
        ),
        "Forbidden": answer(
            "The user may not read the analytics.", schemas.ErrorSchema, errors.unauthorized().body
        ),
        "NotFound": answer("There is no endpoint at this path.", schemas.ErrorSchema),
        "MethodNotAllowed": method_not_allowed,
        "ServerError": answer(
            "An unexpected error; `errorType` is database-error when the database refused the query.",
            schemas.ErrorSchema,
        ),
        "DatabaseUnavailable": answer(
            "The database cannot be reached.", schemas.DatabaseUnavailableErrorSchema
        ),
        "QueryTimeout": answer(
            "The request ran past its deadline (`LIVECHAT_ANALYTICS_MAX_TIME_MS`).",
            schemas.QueryTimeoutErrorSchema,
        ),
    }


def _teach(plugin: MarshmallowPlugin) -> None:
    """Tell the plugin what the package's own fields look like on the wire."""
    plugin.map_to_openapi_type(schemas.Instant, "string", None)
    plugin.map_to_openapi_type(schemas.DepartmentId, fields.String)
    plugin.map_to_openapi_type(schemas.Sort, "string", None)
    assert plugin.converter is not None  # made by APISpec
    for function in (_instant, _sort, _count, _query_parameter):
        plugin.converter.add_attribute_function(function)
    plugin.converter.add_parameter_attribute_function(_json_parameter)


def _instant(converter: OpenAPIConverter, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    # Either format, so viewers and generators offer a date alone as well as a date-time.
    if not isinstance(field, schemas.Instant):
        return {}
    return {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}


def _sort(converter: OpenAPIConverter, field: fields.Field, **kwargs: Any) -> dict[str, Any]:
    # The fields come from the schema instance, which each app makes per endpoint.
    if not isinstance(field, schemas.Sort):
        return {}
    sortable = list(field.parent.sortable)  # type: ignore[union-attr]
    return {
        "description": (
            f'A JSON object such as {{"{sortable[0]}": 1}}: the fields to order the rows by, among '
            + ", ".join(f"`{name}`" for name in sortable)
            + f", each 1 (ascending) or -1 (descending). Ties are broken by `{sortable[0]}` ascending; "
            "`null` sorts lowest."
        ),
        "contentMediaType": "application/json",
        "contentSchema": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"enum": sortable},
            "additionalProperties": {"enum": [1, -1]},
            "default": dict(field.load_default),
            "examples": [{sortable[-1]: -1}],
        },
    }


def _json_parameter(
    converter: OpenAPIConverter, field: fields.Field, ret: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    # A parameter that holds JSON is described by the schema of the decoded value, under its media
    # type, so that viewers offer a JSON editor and clients encode the value themselves.
    schema = ret.get("schema", {})
    if schema.get("contentMediaType") == "application/json":
        del ret["schema"]
        ret["content"] = {"application/json": {"schema": schema["contentSchema"]}}
    return {}


def _count(
    converter: OpenAPIConverter, field: fields.Field, ret: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    # The page size is the app's, kept on the schema instance rather than on the field.
    args = field.parent
    if not isinstance(args, schemas.ArgsSchema) or field.name != "count":
        return {}
    everything = " 0 means every row." if ret.get("minimum") == 0 else ""
    return {
        "default": args.default_count,
        "description": f"Rows per page; a larger count is lowered to {args.max_count}.{everything}",
    }


def _query_parameter(
    converter: OpenAPIConverter, field: fields.Field, ret: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    # An optional parameter is absent, never null: a query string has no null to send.
    if isinstance(field.parent, schemas.ArgsSchema):
        if isinstance(ret.get("type"), list):
            kinds = [kind for kind in ret["type"] if kind != "null"]
            ret["type"] = kinds[0] if len(kinds) == 1 else kinds
        if "default" in ret and ret["default"] is None:
            del ret["default"]
    return {}
