"""The one module that imports ``fhir.resources`` (DESIGN.md: fhir.resources in ONE module).

It offers three things built on the R4B (4.3.0) models, which are the closest pydantic-2 models
to FHIR R4 4.0.1 (reference/STANDARDS.md section 1):

- :func:`is_known_resource_type`: whether a name is a concrete resource type;
- :func:`type_info` / :func:`element_table`: a compiled, cached description of every element of
  a resource, backbone element or data type, introspected once per type from the models'
  ``model_fields`` (JSON name, list or scalar, primitive type or complex type, minimum
  cardinality, choice group ``[x]``, required binding). The strict JSON walker in
  ``validation.py`` runs on it;
- :func:`model_check`: the R4B model validation itself, its pydantic errors turned into
  :class:`~server.errors.Issue` objects carrying FHIRPath expressions.

Spec pages: R4 ``json.html`` (JSON names, ``_element`` primitive extensions, ``resourceType``),
``datatypes.html`` (primitive types), ``formats.html#choice`` (``[x]`` elements),
``terminologies.html#required`` (required bindings; the R4 rows of ``profiles/r4_core.py``
override the models' ``enum_values``).
"""

from __future__ import annotations

import re
import typing
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from types import MappingProxyType, NoneType, UnionType
from typing import Any, Final

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import FhirBase, FhirElementOrResourceBase
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from profiles import r4_core
from server.errors import Issue

__all__ = [
    "ANY_RESOURCE",
    "PRIMITIVE_EXTENSION",
    "ElementInfo",
    "TypeInfo",
    "element_table",
    "is_known_resource_type",
    "model_check",
    "type_info",
]

#: ``type_name`` of elements that hold any resource (``contained``, ``Bundle.entry.resource``).
ANY_RESOURCE: Final = "Resource"
#: ``type_name`` of the ``_element`` sibling object of a primitive (R4 json.html#primitive).
PRIMITIVE_EXTENSION: Final = "FHIRPrimitiveExtension"

_NOT_ELEMENTS: Final = frozenset({"fhir_comments"})  # a DSTU2 relic, not an R4 JSON property
_ABSTRACT_RESOURCES: Final = frozenset({"Resource", "DomainResource"})
_TYPE_NAME: Final = re.compile(r"[A-Z][A-Za-z]{0,63}")
_PYTHON_KEYWORD_SUFFIX: Final = "_fhir"  # ``class_fhir`` is the field of element ``class``
_EXT_SUFFIX: Final = "__ext"
#: A property name worth quoting in an expression (pydantic union tags contain ``[`` or ``-``).
_UNKNOWN_ELEMENT: Final = re.compile(r"_?[A-Za-z][A-Za-z0-9_]{0,63}")


@dataclass(frozen=True, slots=True)
class ElementInfo:
    """One element of a type, as it appears in FHIR JSON.

    Exactly one of ``primitive`` (an R4 primitive type code such as ``"positiveInt"``) and
    ``type_name`` (a model name such as ``"ClaimItem"``, or :data:`ANY_RESOURCE`) is set.
    ``codes`` is the required binding (``None``: no required code list); ``code_pattern`` is
    set instead for grammar-defined value sets (media types).
    """

    name: str
    is_list: bool
    required: bool
    primitive: str | None = None
    type_name: str | None = None
    choice: str | None = None
    codes: frozenset[str] | None = None
    value_set: str | None = None
    code_pattern: re.Pattern[str] | None = None
    simple_quantity: bool = False


@dataclass(frozen=True, slots=True)
class TypeInfo:
    """The compiled element table of one resource, backbone element or data type."""

    name: str
    is_resource: bool
    elements: Mapping[str, ElementInfo]
    #: JSON names of the non-choice elements with minimum cardinality 1.
    required: tuple[str, ...]
    #: Choice prefixes (``"serviced"``) whose ``[x]`` element is required.
    required_choices: tuple[str, ...]


# --- resource types -------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def is_known_resource_type(name: str) -> bool:
    """Whether ``name`` is a concrete R4B resource type (``Claim``, ``Bundle``, ...)."""
    if not isinstance(name, str) or not _TYPE_NAME.fullmatch(name):
        return False
    if name in _ABSTRACT_RESOURCES:
        return False
    model = _model_class(name)
    return model is not None and model.__name__ == name and model.has_resource_base()


def _model_class(name: str) -> type[FHIRAbstractModel] | None:
    try:
        return get_fhir_model_class(name)
    except ValueError:
        return None


# --- the compiled element table -------------------------------------------------------------


def element_table(type_name: str) -> Mapping[str, ElementInfo]:
    """Elements of ``type_name`` by JSON name (``_element`` siblings are not listed)."""
    return type_info(type_name).elements


@cache
def type_info(type_name: str) -> TypeInfo:
    """The compiled table of ``type_name``; built once per type by model introspection.

    Raises ``KeyError`` for a name that is not an R4B type.
    """
    model = _model_class(type_name)
    if model is None:
        raise KeyError(type_name)
    elements: dict[str, ElementInfo] = {}
    required: list[str] = []
    required_choices: set[str] = set()
    for field_name, field in model.model_fields.items():
        if field_name.endswith(_EXT_SUFFIX) or field_name in _NOT_ELEMENTS:
            continue
        info = _element_info(model, field_name, field)
        elements[info.name] = info
        extra = _schema_extra(field)
        if info.choice is not None:
            if extra.get("one_of_many_required") is True:
                required_choices.add(info.choice)
        elif info.required:
            required.append(info.name)
    return TypeInfo(
        name=type_name,
        is_resource=model.has_resource_base(),
        elements=MappingProxyType(elements),
        required=tuple(required),
        required_choices=tuple(sorted(required_choices)),
    )


def _schema_extra(field: FieldInfo) -> dict[str, Any]:
    extra = field.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def _element_info(model: type[FHIRAbstractModel], field_name: str, field: FieldInfo) -> ElementInfo:
    name = field.alias or _element_name(field_name)
    is_list, primitive, type_name = _describe_annotation(field.annotation)
    extra = _schema_extra(field)
    required = field.is_required() or extra.get("element_required") is True
    codes, value_set, code_pattern = _binding(model, name, extra)
    choice = extra.get("one_of_many")
    return ElementInfo(
        name=name,
        is_list=is_list,
        required=required,
        primitive=primitive,
        type_name=type_name,
        choice=choice if isinstance(choice, str) else None,
        codes=codes,
        value_set=value_set,
        code_pattern=code_pattern,
        simple_quantity=(model.__name__, name) in _simple_quantities(),
    )


def _element_name(field_name: str) -> str:
    if field_name.endswith(_PYTHON_KEYWORD_SUFFIX):
        return field_name[: -len(_PYTHON_KEYWORD_SUFFIX)]
    return field_name


def _describe_annotation(annotation: Any) -> tuple[bool, str | None, str | None]:
    """``(is_list, primitive type code, complex type name)`` of a field annotation."""
    inner = _strip_optional(annotation)
    is_list = typing.get_origin(inner) is list
    if is_list:
        inner = _strip_optional(typing.get_args(inner)[0])
    primitive = _primitive_code(inner)
    if primitive is not None:
        return is_list, primitive, None
    return is_list, None, _complex_type_name(inner)


def _strip_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is UnionType:
        members = [arg for arg in typing.get_args(annotation) if arg is not NoneType]
        if len(members) == 1:
            return members[0]
    return annotation


def _primitive_code(annotation: Any) -> str | None:
    if annotation is bool:
        return "boolean"
    if typing.get_origin(annotation) is not typing.Annotated:
        return None
    for meta in annotation.__metadata__:
        code = getattr(meta, "__visit_name__", None)
        if isinstance(code, str):
            return code
    if typing.get_args(annotation)[0] is uuid.UUID:
        return "uuid"
    raise TypeError(f"unrecognised primitive annotation {annotation!r}")


def _complex_type_name(annotation: Any) -> str:
    if not (isinstance(annotation, type) and issubclass(annotation, FhirBase)):
        raise TypeError(f"unrecognised element annotation {annotation!r}")
    model = annotation.get_model_klass()
    if issubclass(annotation, FhirElementOrResourceBase) and model.__name__ == ANY_RESOURCE:
        return ANY_RESOURCE
    return model.__name__


def _complex_class(model: type[FHIRAbstractModel], element: str) -> type[FHIRAbstractModel]:
    for field_name, field in model.model_fields.items():
        if (field.alias or field_name) == element:
            annotation = _strip_optional(field.annotation)
            if typing.get_origin(annotation) is list:
                annotation = _strip_optional(typing.get_args(annotation)[0])
            if isinstance(annotation, type) and issubclass(annotation, FhirBase):
                return annotation.get_model_klass()
            raise KeyError(f"{model.__name__}.{element} is not a complex element")
    raise KeyError(f"{model.__name__} has no element {element}")


# --- required bindings: R4 rows override the R4B enum_values --------------------------------


_Binding = tuple[frozenset[str] | None, str | None, re.Pattern[str] | None]
_NO_BINDING: Final[_Binding] = (None, None, None)
_MIME_TYPE: Final = re.compile(r4_core.MIME_TYPE_PATTERN)
_TRUNCATED_ENUM_MARKERS: Final = frozenset({"+", "etc.", "..."})


def _binding(model: type[FHIRAbstractModel], element: str, extra: dict[str, Any]) -> _Binding:
    overrides = _r4_bindings()
    for klass in model.__mro__:
        row = overrides.get((klass.__name__, element))
        if row is not None:
            return row
    if (model.__name__, element) in _not_required_in_r4():
        return _NO_BINDING
    enum_values = extra.get("enum_values")
    if not enum_values or _TRUNCATED_ENUM_MARKERS.intersection(enum_values):
        return _NO_BINDING  # a truncated list cannot be enforced; r4_core must supply it
    return frozenset(enum_values), None, None


@cache
def _r4_bindings() -> dict[tuple[str, str], _Binding]:
    table: dict[tuple[str, str], _Binding] = {}
    for row in r4_core.REQUIRED_BINDINGS:
        pattern = _MIME_TYPE if row.codes is None else None
        for path in row.elements:
            table[_resolve_path(path)] = (row.codes, row.value_set, pattern)
    return table


@cache
def _not_required_in_r4() -> frozenset[tuple[str, str]]:
    return frozenset(_resolve_path(path) for path in r4_core.R4B_ENUMS_NOT_REQUIRED_IN_R4)


@cache
def _simple_quantities() -> frozenset[tuple[str, str]]:
    return frozenset(_resolve_path(path) for path in r4_core.SIMPLE_QUANTITY_ELEMENTS)


def _resolve_path(path: str) -> tuple[str, str]:
    """``"Patient.contact.gender"`` -> ``("PatientContact", "gender")`` (owner model, element)."""
    root, *steps, element = path.split(".")
    model = _model_class(root)
    if model is None:
        raise KeyError(f"unknown type in {path}")
    for step in steps:
        model = _complex_class(model, step)
    if not any((f.alias or n) == element for n, f in model.model_fields.items()):
        raise KeyError(f"{path}: {model.__name__} has no element {element}")
    return model.__name__, element


# --- the R4B model check --------------------------------------------------------------------


_REQUIRED_ERRORS: Final = frozenset({"missing", "model_field_validation.missing"})
_STRUCTURE_ERRORS: Final = frozenset({"extra_forbidden"})
_ERROR_PHRASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "missing": "required element is missing",
        "model_field_validation.missing": "required element is missing",
        "extra_forbidden": "unknown element",
        "int_parsing": "must be an integer",
        "int_type": "must be an integer",
        "bool_parsing": "must be a boolean",
        "bool_type": "must be a boolean",
        "string_type": "must be a string",
        "decimal_parsing": "must be a decimal number",
        "decimal_type": "must be a decimal number",
        "string_pattern_mismatch": "does not match the format of its FHIR type",
        "string_too_short": "is shorter than its FHIR type allows",
        "string_too_long": "is longer than its FHIR type allows",
        "greater_than_equal": "is below the minimum of its FHIR type",
        "less_than_equal": "is above the maximum of its FHIR type",
        "list_type": "must be an array",
        "model_type": "must be an object",
        "dict_type": "must be an object",
        "date_from_datetime_parsing": "is not a valid date",
        "datetime_from_date_parsing": "is not a valid dateTime",
        "value_error": "is not valid for its FHIR type",
        "uuid_parsing": "is not a valid uuid",
    }
)
#: R4B model rules that R4 does not have: its ``uuid`` type accepts only version 4 UUIDs
#: (R4 datatypes.html#uuid allows any RFC 4122 UUID).
_NOT_R4_RULES: Final = frozenset({"uuid_version"})


def model_check(data: dict[str, Any]) -> list[Issue]:
    """Validate ``data`` with its R4B model; one :class:`Issue` per pydantic error.

    Expressions are FHIRPath (``Claim.item[0].sequence``; primitive extension siblings as
    ``Claim._status``). Messages name the element and the rule, never the value.
    """
    root = data.get("resourceType")
    if not isinstance(root, str) or not is_known_resource_type(root):
        return [
            Issue("resourceType: not an R4 resource type", "invalid", expression=("resourceType",))
        ]
    model = get_fhir_model_class(root)
    try:
        model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        return [_issue(root, data, error) for error in errors if error["type"] not in _NOT_R4_RULES]
    except (TypeError, ValueError, KeyError, AttributeError, IndexError):
        # The R4B validators assume well-typed input and can crash on wrong JSON types;
        # the strict walker reports those precisely, so only the fact is reported here.
        return [
            Issue(
                f"{root}: content is not valid for the R4B model", "structure", expression=(root,)
            )
        ]
    return []


def _issue(root: str, data: dict[str, Any], error: Any) -> Issue:
    expression = _loc_to_expression(root, data, error["loc"])
    kind = str(error["type"])
    if kind in _REQUIRED_ERRORS:
        code = "required"
    elif kind in _STRUCTURE_ERRORS:
        code = "structure"
    else:
        code = "value"
    phrase = _ERROR_PHRASES.get(kind, f"is invalid (R4B model rule {kind})")
    return Issue(f"{expression}: {phrase}", code, expression=(expression,))


def _loc_to_expression(root: str, data: Any, loc: tuple[int | str, ...]) -> str:
    """Map a pydantic ``loc`` (aliases, field names, list indices, union tags) to FHIRPath."""
    expression = root
    current: str | None = root
    node: Any = data
    for part in loc:
        if isinstance(part, int):
            expression += f"[{part}]"
            node = node[part] if isinstance(node, list) and -len(node) <= part < len(node) else None
            continue
        if current == ANY_RESOURCE:
            resource_type = node.get("resourceType") if isinstance(node, dict) else None
            current = resource_type if is_known_resource_type(resource_type) else None
        step = _loc_step(current, part)
        if step is None:
            continue  # a pydantic union tag or validator name, not an element
        name, current = step
        expression += f".{name}"
        node = node.get(name) if isinstance(node, dict) else None
    return expression


def _loc_step(current: str | None, part: str) -> tuple[str, str | None] | None:
    """``(JSON name, type name of the child or None)`` for one ``loc`` part, if an element."""
    if current is None:
        return None
    if part.endswith(_EXT_SUFFIX):
        part = "_" + part[: -len(_EXT_SUFFIX)]
    if part.startswith("_"):
        info = type_info(current).elements.get(part[1:])
        if info is not None and info.primitive is not None:
            return part, PRIMITIVE_EXTENSION
    table = type_info(current).elements
    info = table.get(part) or table.get(_element_name(part))
    if info is not None:
        return info.name, info.type_name
    if _UNKNOWN_ELEMENT.fullmatch(part):
        return part, None  # an unknown element named in an extra_forbidden error
    return None
