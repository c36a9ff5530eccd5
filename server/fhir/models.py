"""The one module that imports ``fhir.resources`` (DESIGN.md: fhir.resources in ONE module).

It offers three things built on the R4B (4.3.0) models, which are the closest pydantic-2 models
to FHIR R4 4.0.1 (reference/STANDARDS.md section 1):

- :func:`is_known_resource_type`: whether a name is a concrete resource type;
- :func:`type_info` / :func:`element_table`: a compiled, cached description of every element of
  a resource, backbone element or data type, introspected once per type from the models'
  ``model_fields`` (JSON name, list or scalar, primitive type or complex type, minimum
  cardinality, choice group ``[x]``, required binding, ``_element`` sibling). The strict JSON
  walk in ``validation.py``, the runtime validator, runs on it;
- :func:`model_check`: the R4B model validation itself, its pydantic errors turned into
  :class:`~server.errors.Issue` objects carrying FHIRPath expressions, minus the model rules
  that R4 does not have. It is the walk's oracle (``tests/fhir/test_validation_oracle.py``)
  and runs on requests only when a caller asks ``validate_resource(..., model_check=True)``.

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
    #: Resource types a Reference element may point to (``None``: any type).
    targets: frozenset[str] | None = None
    #: Whether the primitive may have an ``_element`` sibling (R4 json.html#primitive); false
    #: for the elements typed with FHIRPath System types (``Resource.id``, ``Element.id``,
    #: ``Extension.url``), which carry no extensions.
    extensible: bool = False


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
    siblings = _extension_siblings(model)
    for field_name, field in model.model_fields.items():
        if field_name.endswith(_EXT_SUFFIX) or field_name in _NOT_ELEMENTS:
            continue
        info = _element_info(model, field_name, field, siblings)
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


def _extension_siblings(model: type[FHIRAbstractModel]) -> frozenset[str]:
    """JSON names of the primitives of ``model`` that may have an ``_element`` sibling.

    The models' ``<field>__ext`` fields, plus the R4 rows of ``profiles/r4_core.py`` for the
    primitives whose sibling the R4B models forgot (``Extension.value[x]``).
    """
    names = {
        field.alias[1:]
        for field_name, field in model.model_fields.items()
        if field_name.endswith(_EXT_SUFFIX) and field.alias and field.alias.startswith("_")
    }
    names.update(_r4_extension_siblings().get(model.__name__, ()))
    return frozenset(names)


@cache
def _r4_extension_siblings() -> dict[str, frozenset[str]]:
    """``{owner model: element names}`` of ``r4_core.R4B_MISSING_PRIMITIVE_EXTENSIONS``."""
    table: dict[str, set[str]] = {}
    for path in r4_core.R4B_MISSING_PRIMITIVE_EXTENSIONS:
        head, element = path.rsplit(".", 1)
        if element.endswith("[x]"):
            model = _owner_model(head)
            names = {
                field.alias or field_name
                for field_name, field in model.model_fields.items()
                if _schema_extra(field).get("one_of_many") == element[:-3]
            }
            table.setdefault(model.__name__, set()).update(names)
        else:
            owner, name = _resolve_path(path)
            table.setdefault(owner, set()).add(name)
    return {owner: frozenset(names) for owner, names in table.items()}


def _element_info(
    model: type[FHIRAbstractModel], field_name: str, field: FieldInfo, siblings: frozenset[str]
) -> ElementInfo:
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
        extensible=primitive is not None and name in siblings,
        targets=_reference_targets(type_name, extra),
    )


def _reference_targets(type_name: str | None, extra: dict[str, Any]) -> frozenset[str] | None:
    """The allowed target types of a Reference element (``Reference(Patient)``)."""
    if type_name != "Reference":
        return None
    targets = extra.get("enum_reference_types")
    if not isinstance(targets, list) or not targets or "Resource" in targets:
        return None
    return frozenset(str(t) for t in targets)


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


def _owner_model(path: str) -> type[FHIRAbstractModel]:
    """``"Patient.contact"`` -> the model of that backbone element (``PatientContact``)."""
    root, *steps = path.split(".")
    model = _model_class(root)
    if model is None:
        raise KeyError(f"unknown type in {path}")
    for step in steps:
        model = _complex_class(model, step)
    return model


def _resolve_path(path: str) -> tuple[str, str]:
    """``"Patient.contact.gender"`` -> ``("PatientContact", "gender")`` (owner model, element)."""
    head, element = path.rsplit(".", 1)
    model = _owner_model(head)
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
_ONE_OF_MANY_MISSING: Final = "Expect any of field value from this list"


def model_check(data: dict[str, Any]) -> list[Issue]:
    """Validate ``data`` with its R4B model; one :class:`Issue` per pydantic error.

    Expressions are FHIRPath (``Claim.item[0].sequence``; primitive extension siblings as
    ``Claim._status``). Messages name the element and the rule, never the value.

    Three kinds of model error are dropped because the R4B model is wrong about R4 4.0.1 there:

    - ``uuid_version``: the model's ``uuid`` is version 4 only; R4 ``datatypes.html#uuid``
      allows any RFC 4122 UUID;
    - an unknown ``_value[x]`` inside an Extension: R4 ``json.html#primitive`` gives every
      primitive element its ``_element`` sibling (``r4_core.R4B_MISSING_PRIMITIVE_EXTENSIONS``);
    - a required choice ``[x]`` present only as ``_value[x]`` with extensions: R4
      ``extensibility.html#Special-Case`` lets an element of minimum cardinality 1 be present
      without a value when extensions say why (the model honours that for other primitives).
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
        issues: list[Issue] = []
        for error in errors:
            if error["type"] in _NOT_R4_RULES:
                continue
            located = _locate(root, data, error["loc"])
            if not _not_r4(error, located):
                issues.append(_issue(located.expression, error))
        return issues
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError):
        # The R4B validators assume well-typed input and can crash on wrong JSON types (or
        # run out of stack on deep nesting); only the fact is reported here.
        return [
            Issue(
                f"{root}: content is not valid for the R4B model", "structure", expression=(root,)
            )
        ]
    return []


@dataclass(frozen=True, slots=True)
class _Located:
    """Where a pydantic error points: its FHIRPath, the JSON there and its type, and the
    owner type and JSON name of the last element on the way (``None`` at the root)."""

    expression: str
    node: Any
    type_name: str | None
    owner: str | None
    name: str | None


def _not_r4(error: Any, located: _Located) -> bool:
    """Whether a model error is one of the R4B rules that R4 does not have (see model_check)."""
    kind = error["type"]
    if kind == "extra_forbidden":
        name = located.name or ""
        if located.owner is None or not name.startswith("_"):
            return False
        base = type_info(located.owner).elements.get(name[1:])
        return base is not None and base.extensible
    if kind == "value_error" and _ONE_OF_MANY_MISSING in str(error.get("msg", "")):
        return located.type_name is not None and _choice_by_extension(
            located.type_name, located.node
        )
    return False


def _choice_by_extension(type_name: str, node: Any) -> bool:
    """Whether every required choice of ``node`` is present, some only as ``_value[x]``."""
    if not isinstance(node, dict):
        return False
    info = type_info(type_name)
    present: set[str] = set()
    for key, value in node.items():
        element = info.elements.get(key[1:] if key.startswith("_") else key)
        if element is None or element.choice is None:
            continue
        if not key.startswith("_") or (isinstance(value, dict) and value.get("extension")):
            present.add(element.choice)
    return all(prefix in present for prefix in info.required_choices)


def _issue(expression: str, error: Any) -> Issue:
    kind = str(error["type"])
    if kind in _REQUIRED_ERRORS:
        code = "required"
    elif kind in _STRUCTURE_ERRORS:
        code = "structure"
    else:
        code = "value"
    phrase = _ERROR_PHRASES.get(kind, f"is invalid (R4B model rule {kind})")
    return Issue(f"{expression}: {phrase}", code, expression=(expression,))


def _locate(root: str, data: Any, loc: tuple[int | str, ...]) -> _Located:
    """Follow a pydantic ``loc`` (aliases, field names, list indices, union tags) in ``data``."""
    expression = root
    current: str | None = root
    owner: str | None = None
    name: str | None = None
    node: Any = data
    for part in loc:
        if isinstance(part, int):
            expression += f"[{part}]"
            node = node[part] if isinstance(node, list) and -len(node) <= part < len(node) else None
            continue
        current = _concrete(current, node)
        step = _loc_step(current, part)
        if step is None:
            continue  # a pydantic union tag or validator name, not an element
        owner = current
        name, current = step
        expression += f".{name}"
        node = node.get(name) if isinstance(node, dict) else None
    return _Located(expression, node, _concrete(current, node), owner, name)


def _concrete(type_name: str | None, node: Any) -> str | None:
    """The resource type of ``node`` where the element holds any resource."""
    if type_name != ANY_RESOURCE:
        return type_name
    resource_type = node.get("resourceType") if isinstance(node, dict) else None
    if isinstance(resource_type, str) and is_known_resource_type(resource_type):
        return resource_type
    return None


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


# --- summary and mandatory elements (search.html#summary) -----------------------------------


@cache
def summary_elements(resource_type: str) -> frozenset[str]:
    """Top-level JSON names the definition marks as summary (`isSummary`), for `_summary=true`."""
    model = _model_class(resource_type)
    if model is None:
        return frozenset()
    info = type_info(resource_type)
    names = {
        _element_name(field_name)
        for field_name, field in model.model_fields.items()
        if _schema_extra(field).get("summary_element_property") is True
    }
    return frozenset(name for name in names if name in info.elements)


@cache
def mandatory_elements(resource_type: str) -> frozenset[str]:
    """Top-level elements with minimum cardinality 1 (kept by `_summary=text` and `_elements`)."""
    info = type_info(resource_type)
    choices = {
        name for name, element in info.elements.items() if element.choice in info.required_choices
    }
    return frozenset(info.required) | frozenset(choices)
