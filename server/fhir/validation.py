"""Validate a FHIR R4 resource on the way in (DESIGN.md law 1), reporting every problem at once.

The runtime validator is one strict walk over the parsed JSON, driven by the element tables
that :mod:`server.fhir.models` compiles FROM the fhir.resources R4B model definitions (JSON
names, repetition, primitive types, minimum cardinality, choice groups ``[x]``, required
bindings, which primitives may have an ``_element`` sibling), with the R4 rows of
``profiles/r4_core.py`` where R4B and R4 4.0.1 differ. It enforces:

- primitives (R4 ``json.html#primitive``, ``datatypes.html``): booleans are ``true``/``false``;
  integer, positiveInt and unsignedInt are JSON integers in their 32-bit range
  (``"sequence": "1"`` is rejected: the R4B lax mode accepts it); decimal is a finite JSON
  number; every other primitive is a non-empty JSON string of Unicode text (no lone
  surrogates) matching its R4 regex in full; dates name days that exist ("Dates SHALL be valid
  dates": no 2023-02-29 or 2021-06-31); a ``string`` holds a character of ``[ \\r\\n\\t\\S]``;
  base64Binary is canonical base64 (whitespace tolerated);
- arrays exactly where an element repeats, no ``null``, no ``[]``, no ``{}`` (``json.html``:
  "objects and arrays are never empty, properties never null"); the ``_element`` siblings
  (objects, or arrays aligned with a value array; none for ``Resource.id``, ``Element.id``,
  ``Extension.url``); ``resourceType`` only at resource roots; unknown elements;
- required bindings (``terminologies.html#required``): the models' ``enum_values`` and the R4
  rows of ``profiles/r4_core.py`` (``Money.currency`` is ISO 4217, ...);
- choice elements ``[x]`` (``formats.html#choice``): at most one, and one when required;
- minimum cardinality (an ``_element`` with extensions stands in for a required primitive,
  ``extensibility.html#Special-Case``), and the invariants ``ext-1`` (an extension has a
  value[x] or nested extensions, not both), ``dom-2`` (no nested contained) and ``sqty-1``
  (a SimpleQuantity has no comparator);
- contained resources and ``Bundle.entry.resource`` recursively, by their own type, up to
  :data:`MAX_DEPTH` levels of nesting.

The R4B model check (:func:`server.fhir.models.model_check`) is not on the runtime path: it is
an oracle, run by ``tests/fhir/test_validation_oracle.py`` over thousands of generated
resources to show that whatever the walk accepts the model accepts too (the walk is stricter,
never laxer; where the model is wrong about R4 its error is dropped, see ``model_check``).
Callers that want it anyway pass ``model_check=True``: its issues are then merged, dropping
those about an element the walk already reported on (same, enclosing or enclosed expression).
Measured on the 2-core development machine (CPython 3.11, best of 7 x 3000 calls): the walk
alone takes about 35 µs for the R4 example Claim-100150 (1.8 KB as published, 1.1 KB compact)
and 66-75 µs for the 2.3 KB benchmark Claim of ``bench/claims.py``; the R4B model alone takes
about 220 µs and 410 µs on them, so ``model_check=True`` costs 260-280 µs and 490-520 µs.

Issues carry FHIRPath expressions (``Claim.item[0].sequence``); messages name the element and
the rule and never echo the value (no PHI in errors, DESIGN.md law 6).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Any, Final

from server.errors import (
    Issue,
    ResourceTypeMismatchError,
    ResourceValidationError,
    UnsupportedResourceTypeError,
)
from server.fhir.models import (
    ANY_RESOURCE,
    PRIMITIVE_EXTENSION,
    ElementInfo,
    TypeInfo,
    is_known_resource_type,
    type_info,
)
from server.fhir.models import model_check as check_model
from server.fhir.primitives import CHECKS, json_type

__all__ = ["prepare", "validate_resource"]

#: Objects nested deeper than this are refused rather than followed. Real resources stay near
#: 20 levels (Bundle.entry.resource.item.detail.subDetail.extension...); the R4B model needs
#: about 8 Python frames a level and overflows the default stack near 120 levels, so 64 also
#: keeps ``model_check=True`` safe under a server's own frames.
MAX_DEPTH: Final = 64
_ELEMENT_NAME: Final = re.compile(r"_?[A-Za-z][A-Za-z0-9_]{0,63}")
_PATH_BREAK: Final = re.compile(r"[.\[]")
_EXTENSION: Final = "Extension"
_VALUE_KEYS: Final = ("value", "_value")

# --- the walk -------------------------------------------------------------------------------


class _Walk:
    """One strict pass over a resource's JSON; collects issues instead of stopping."""

    __slots__ = ("issues", "too_deep")

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.too_deep = False

    def add(self, path: str, rule: str, code: str) -> None:
        self.issues.append(Issue(f"{path}: {rule}", code, expression=(path,)))

    # resources and objects

    def resource(self, obj: dict[str, Any], path: str, depth: int, contained: bool) -> None:
        resource_type = obj.get("resourceType")
        if not isinstance(resource_type, str) or not is_known_resource_type(resource_type):
            self.add(
                path, "must be a resource whose resourceType names an R4 resource type", "structure"
            )
            return
        if contained and "contained" in obj:
            self.add(
                f"{path}.contained",
                "a contained resource SHALL NOT contain resources (dom-2)",
                "invariant",
            )
        self.object(obj, type_info(resource_type), path, depth)

    def object(self, obj: dict[str, Any], info: TypeInfo, path: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            self.too_deep = True
            self.add(path, f"content is nested more than {MAX_DEPTH} levels deep", "structure")
            return
        if not obj:
            self.add(path, "must not be an empty object (ele-1)", "structure")
            return
        elements = info.elements
        chosen: dict[str, str] | None = None
        for key, value in obj.items():
            element = elements.get(key)
            if element is None:
                element = self.extension_sibling(key, value, obj, info, path, depth)
                if element is None:
                    continue
            else:
                self.value(value, element, obj, f"{path}.{key}", depth)
            if element.choice is not None:
                chosen = self.choose(chosen, element, key, path)
        self.cardinality(obj, info, chosen, path)

    def extension_sibling(
        self, key: str, value: Any, obj: dict[str, Any], info: TypeInfo, path: str, depth: int
    ) -> ElementInfo | None:
        """Handle a key that is not an element: ``_element``, ``resourceType`` or unknown."""
        if key == "resourceType" and info.is_resource:
            return None
        if key[:1] == "_":
            base = info.elements.get(key[1:])
            if base is not None and base.primitive is not None:
                if base.extensible:
                    self.primitive_extension(value, base, obj, f"{path}.{key}", depth)
                    return base
                self.add(
                    f"{path}.{key}",
                    f"{info.name}.{base.name} cannot have extensions (it has no _{base.name})",
                    "structure",
                )
                return None
        self.unknown(key, info, path)
        return None

    def unknown(self, key: str, info: TypeInfo, path: str) -> None:
        if key == "resourceType":
            self.add(
                f"{path}.resourceType",
                "resourceType is only allowed at the root of a resource",
                "structure",
            )
        elif _ELEMENT_NAME.fullmatch(key):
            self.add(
                f"{path}.{key}",
                f"unknown element: {info.name} has no element of this name",
                "structure",
            )
        else:
            self.add(path, "has a property whose name is not a FHIR element name", "structure")

    def choose(
        self, chosen: dict[str, str] | None, element: ElementInfo, key: str, path: str
    ) -> dict[str, str]:
        prefix = element.choice
        assert prefix is not None
        if chosen is None:
            chosen = {}
        first = chosen.setdefault(prefix, element.name)
        if first != element.name:
            self.add(
                f"{path}.{key}",
                f"only one of {prefix}[x] may be present (R4 formats.html#choice)",
                "structure",
            )
        return chosen

    def cardinality(
        self, obj: dict[str, Any], info: TypeInfo, chosen: dict[str, str] | None, path: str
    ) -> None:
        for name in info.required:
            if name not in obj and not _stands_in(obj.get(f"_{name}")):
                self.add(
                    f"{path}.{name}",
                    "required element is missing (minimum cardinality 1)",
                    "required",
                )
        for prefix in info.required_choices:
            if chosen is None or prefix not in chosen:
                self.add(
                    f"{path}.{prefix}[x]",
                    "required element is missing (minimum cardinality 1)",
                    "required",
                )

    # element values

    def value(
        self, value: Any, element: ElementInfo, obj: dict[str, Any], path: str, depth: int
    ) -> None:
        if element.is_list:
            if not isinstance(value, list):
                self.add(
                    path,
                    f"must be a JSON array (the element repeats), not {json_type(value)}",
                    "structure",
                )
            elif not value:
                self.add(path, "must not be an empty array", "structure")
            elif element.primitive is not None:
                self.primitive_list(value, element, obj.get(f"_{element.name}"), path)
            else:
                for index, item in enumerate(value):
                    self.complex(item, element, f"{path}[{index}]", depth)
        elif isinstance(value, list):
            self.add(path, "must not be an array (the element does not repeat)", "structure")
        elif element.primitive is not None:
            self.primitive(value, element, path)
        else:
            self.complex(value, element, path, depth)

    def primitive_list(
        self, values: list[Any], element: ElementInfo, siblings: Any, path: str
    ) -> None:
        for index, item in enumerate(values):
            if item is not None:
                self.primitive(item, element, f"{path}[{index}]")
            elif not _has_item(siblings, index):
                self.add(
                    f"{path}[{index}]",
                    f"must not be null unless _{element.name} has an entry at the same index",
                    "structure",
                )

    def primitive(self, value: Any, element: ElementInfo, path: str) -> None:
        if value is None:
            self.add(path, "must not be null", "structure")
            return
        rule = CHECKS[element.primitive](value)  # type: ignore[index]
        if rule is not None:
            self.add(path, rule, "value")
        elif element.codes is not None:
            if value not in element.codes:
                self.add(path, _binding_rule(element), "code-invalid")
        elif element.code_pattern is not None and element.code_pattern.fullmatch(value) is None:
            self.add(path, _binding_rule(element), "code-invalid")

    def complex(self, value: Any, element: ElementInfo, path: str, depth: int) -> None:
        if not isinstance(value, dict):
            self.add(path, f"must be a JSON object, not {json_type(value)}", "structure")
        elif element.type_name == ANY_RESOURCE:
            self.resource(value, path, depth + 1, contained=element.name == "contained")
        elif element.type_name == _EXTENSION:
            self.object(value, type_info(_EXTENSION), path, depth + 1)
            if value and not self.too_deep:
                self.extension_invariant(value, path)
        else:
            self.object(value, type_info(element.type_name), path, depth + 1)
            if element.simple_quantity and "comparator" in value:
                self.add(
                    f"{path}.comparator", "a SimpleQuantity has no comparator (sqty-1)", "invariant"
                )
            if element.targets is not None:
                self.reference_target(value, element.targets, path)

    def reference_target(self, value: dict[str, Any], targets: frozenset[str], path: str) -> None:
        """A literal reference names a type the element allows (R4 references.html: the
        Reference(X|Y) of the element definition)."""
        literal = value.get("reference")
        if not isinstance(literal, str) or literal.startswith(("#", "urn:")) or "?" in literal:
            return
        parts = literal.split("/")
        if len(parts) >= 4 and parts[-2] == "_history":
            parts = parts[:-2]
        if len(parts) < 2:
            return
        target = parts[-2]
        if is_known_resource_type(target) and target not in targets:
            allowed = ", ".join(sorted(targets))
            self.add(f"{path}.reference", f"must point to {allowed}, not {target}", "value")

    def extension_invariant(self, extension: dict[str, Any], path: str) -> None:
        """ext-1: "Must have either extensions or value[x], not both" (R4 extensibility.html)."""
        nested = "extension" in extension
        valued = any(key.startswith(_VALUE_KEYS) for key in extension)
        if nested == valued:
            self.add(
                path,
                "an extension has either a value[x] or nested extensions, exactly one (ext-1)",
                "invariant",
            )

    def primitive_extension(
        self, value: Any, base: ElementInfo, obj: dict[str, Any], path: str, depth: int
    ) -> None:
        """``_element``: an object, or for a repeating primitive an array aligned with it."""
        values = obj.get(base.name)
        if not base.is_list:
            if isinstance(value, list):
                self.add(path, "must not be an array (the element does not repeat)", "structure")
            else:
                self.extension_object(value, values is not None, path, depth)
            return
        if not isinstance(value, list):
            self.add(path, f"must be a JSON array aligned with {base.name}", "structure")
            return
        if not value:
            self.add(path, "must not be an empty array", "structure")
            return
        if not isinstance(values, list):
            # json.html#primitive: a repeating primitive "is represented in two arrays",
            # aligned with JSON nulls; the value array is there even when it holds only nulls.
            self.add(path, f"needs the aligned {base.name} array beside it", "structure")
        elif len(values) != len(value):
            self.add(path, f"must have as many entries as {base.name}", "structure")
        for index, item in enumerate(value):
            has_value = _has_item(values, index)
            if item is not None:
                self.extension_object(item, has_value, f"{path}[{index}]", depth)
            elif not has_value:
                self.add(
                    f"{path}[{index}]",
                    f"must not be null unless {base.name} has a value at the same index",
                    "structure",
                )

    def extension_object(self, value: Any, has_value: bool, path: str, depth: int) -> None:
        if not isinstance(value, dict):
            self.add(path, f"must be a JSON object, not {json_type(value)}", "structure")
            return
        self.object(value, type_info(PRIMITIVE_EXTENSION), path, depth + 1)
        if value and not has_value and "extension" not in value:
            self.add(path, "a primitive without a value must have extensions (ele-1)", "structure")


def _stands_in(sibling: Any) -> bool:
    """Whether an ``_element`` sibling stands in for an absent required primitive."""
    return sibling is not None and not (isinstance(sibling, dict) and "extension" not in sibling)


def _has_item(values: Any, index: int) -> bool:
    return isinstance(values, list) and index < len(values) and values[index] is not None


def _binding_rule(element: ElementInfo) -> str:
    if element.value_set is None:
        return "code is not in the value set of its required binding"
    return f"code is not in the required value set {element.value_set}"


# --- merging with the model check -----------------------------------------------------------


def _prefixes(expression: str) -> Iterable[str]:
    for match in _PATH_BREAK.finditer(expression):
        yield expression[: match.start()]


def _merge(walked: list[Issue], modelled: list[Issue]) -> list[Issue]:
    """Walk issues, then model issues about elements the walk did not already report on."""
    if not walked:
        return modelled
    reported: set[str] = set()
    enclosing: set[str] = set()
    for issue in walked:
        for expression in issue.expression:
            reported.add(expression)
            enclosing.update(_prefixes(expression))
    merged = list(walked)
    for issue in modelled:
        expression = issue.expression[0] if issue.expression else ""
        if expression in reported or expression in enclosing:
            continue
        if any(prefix in reported for prefix in _prefixes(expression)):
            continue
        merged.append(issue)
    return merged


# --- entry point ----------------------------------------------------------------------------


def validate_resource(
    data: Any,
    *,
    expected_type: str | None = None,
    allowed_types: Collection[str] | None = None,
    model_check: bool = False,
) -> None:
    """Validate parsed FHIR JSON (from :func:`server.fhir.json_codec.loads`) as an R4 resource.

    Raises :class:`ResourceTypeMismatchError` when ``data`` is not an object whose string
    ``resourceType`` names an R4 resource type (and equals ``expected_type`` when given),
    :class:`UnsupportedResourceTypeError` when ``allowed_types`` is given and excludes it, and
    :class:`ResourceValidationError` listing every problem found otherwise.

    Only the strict walk runs by default. ``model_check=True`` also validates with the R4B
    model and merges its issues (seven to eight times the cost; see the module docstring).
    """
    resource_type = _checked_resource_type(data, expected_type, allowed_types)
    walk = _Walk()
    walk.object(data, type_info(resource_type), resource_type, 0)
    issues = walk.issues
    if model_check and not walk.too_deep:
        issues = _merge(issues, check_model(data))
    if issues:
        count = len(issues)
        raise ResourceValidationError(
            f"{resource_type} is not valid FHIR R4 ({count} issue{'s' if count > 1 else ''}): "
            f"{issues[0].message}",
            issues=issues,
        )


def _checked_resource_type(
    data: Any, expected_type: str | None, allowed_types: Collection[str] | None
) -> str:
    if not isinstance(data, dict):
        raise ResourceTypeMismatchError(
            f"The body must be a JSON object (a FHIR resource), not {json_type(data)}"
        )
    resource_type = data.get("resourceType")
    if not isinstance(resource_type, str):
        raise ResourceTypeMismatchError(
            "The resource has no resourceType string", expression="resourceType"
        )
    known = is_known_resource_type(resource_type)
    if expected_type is not None and resource_type != expected_type:
        found = f", not {resource_type}" if known else ""
        raise ResourceTypeMismatchError(
            f"resourceType must be {expected_type}{found}", expression="resourceType"
        )
    if not known:
        raise ResourceTypeMismatchError(
            "resourceType does not name an R4 resource type", expression="resourceType"
        )
    if allowed_types is not None and resource_type not in allowed_types:
        raise UnsupportedResourceTypeError(
            f"Resource type {resource_type} is not supported here", expression="resourceType"
        )
    return resource_type


def prepare(resource_types: Iterable[str]) -> None:
    """Build the element tables of ``resource_types`` now, so the first request does not pay."""
    for resource_type in resource_types:
        type_info(resource_type)
