"""Schema-aware mutations of FHIR JSON, for the walk-versus-model oracle test.

Three families of cases, each a strategy:

- :func:`mutated_cases`: a seed resource (the official R4 examples of the served types when the
  conformance folder is present, the builders of :mod:`tests.builders`, Bundles of them) with
  one to three mutations. Mutations know the element they hit (from the compiled element tables
  of :mod:`server.fhir.models`): a ``date`` receives impossible calendar dates, a ``code``
  stray whitespace, an Extension loses its url; others are blind (wrong JSON types, dropped
  and unknown keys, ``_element`` siblings of every shape, nested or typeless contained);
- :func:`primitive_cases`: one value of a FHIR primitive type, drawn from its boundary values,
  placed where the type is used (an Extension ``value[x]``, a narrative ``div``); every type is
  drawn equally often, so that rare ones (``base64Binary``, ``time``) get as much attention;
- :func:`special_cases`: required, repeating and choice primitives replaced by their
  ``_element`` sibling in every shape (R4 extensibility.html#Special-Case, json.html#primitive).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from hypothesis import strategies as st

from server.fhir import json_codec
from server.fhir.models import ANY_RESOURCE, PRIMITIVE_EXTENSION, ElementInfo, TypeInfo, type_info
from tests.builders import claim, coverage, explanation_of_benefit, patient
from tests.fhir.fhir_values import (
    _EXTENSION_URLS,
    _JSON,
    _VALID,
    PRIMITIVES,
    _tricky,
)

__all__ = [
    "EXAMPLES",
    "mutated_cases",
    "primitive_cases",
    "seeds",
    "served_examples",
    "special_cases",
    "special_seeds",
]

CONFORMANCE: Final = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
EXAMPLES: Final = CONFORMANCE / "fhir" / "examples"
_DEFINITIONS: Final = ("OperationDefinition-", "CompartmentDefinition-")


# --- seeds ----------------------------------------------------------------------------------


def served_examples() -> list[Path]:
    """The official R4 examples of the served resource types (empty when the folder is absent)."""
    if not EXAMPLES.is_dir():
        return []
    return [p for p in sorted(EXAMPLES.glob("*.json")) if not p.name.startswith(_DEFINITIONS)]


def _bundle(kind: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for index, resource in enumerate(resources):
        entry: dict[str, Any] = {
            "fullUrl": f"urn:uuid:1b4e28ba-2fa1-41d2-883f-0016d3cca4{index:02d}",
            "resource": resource,
        }
        if kind in ("transaction", "batch"):
            entry["request"] = {"method": "POST", "url": resource["resourceType"]}
        entries.append(entry)
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def _every_primitive_extension() -> list[dict[str, Any]]:
    """One extension per primitive value[x] type, so that every primitive type is in a seed."""
    choices = type_info("Extension").elements.values()
    return [
        {"url": f"http://example.org/{e.name}", e.name: _VALID[str(e.primitive)]}
        for e in sorted(choices, key=lambda e: e.name)
        if e.choice is not None and e.primitive is not None
    ]


def _eligibility_request() -> dict[str, Any]:
    """A CoverageEligibilityRequest: its ``purpose`` is a required repeating primitive."""
    return {
        "resourceType": "CoverageEligibilityRequest",
        "status": "active",
        "purpose": ["benefits", "validation"],
        "patient": {"reference": "Patient/patient-1"},
        "created": "2024-03-01",
        "insurer": {"reference": "Organization/payer-1"},
        "insurance": [{"coverage": {"reference": "Coverage/coverage-1"}}],
    }


def _task() -> dict[str, Any]:
    """A Task: ``input.value[x]`` is a required choice with primitive types."""
    return {
        "resourceType": "Task",
        "status": "draft",
        "intent": "order",
        "input": [
            {"type": {"text": "flag"}, "valueBoolean": True},
            {"type": {"text": "when"}, "valueDateTime": "2024-03-01T10:00:00Z"},
        ],
    }


def special_seeds() -> list[dict[str, Any]]:
    """Small resources with required, repeating and choice primitives (cheap to validate)."""
    return [
        claim(),
        patient(),
        coverage(),
        _eligibility_request(),
        _task(),
        claim(extension=_every_primitive_extension()[:6]),
    ]


def seeds() -> list[dict[str, Any]]:
    """Valid resources to mutate (each validates on both paths)."""
    found: list[dict[str, Any]] = [
        *special_seeds(),
        claim(extension=_every_primitive_extension()),
        patient(photo=[{"contentType": "image/png", "data": "YWJj", "size": 3}]),
        explanation_of_benefit(),
        claim(contained=[patient(id="p1")], patient={"reference": "#p1"}),
        _bundle("transaction", [patient(), coverage(), claim()]),
        _bundle("collection", [explanation_of_benefit()]),
    ]
    found += [json_codec.loads(path.read_bytes()) for path in served_examples()]
    return found


# --- where a mutation can land --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Slot:
    """One value position, ``parent[key]``, and the element it is (when known)."""

    parent: dict[str, Any] | list[Any]
    key: str | int
    element: ElementInfo | None


@dataclass(frozen=True, slots=True)
class Node:
    """One JSON object whose FHIR type is known."""

    obj: dict[str, Any]
    info: TypeInfo


def _resource_info(obj: Any) -> TypeInfo | None:
    name = obj.get("resourceType") if isinstance(obj, dict) else None
    if not isinstance(name, str):
        return None
    try:
        info = type_info(name)
    except KeyError:
        return None
    return info if info.is_resource else None


def _survey(value: Any, info: TypeInfo | None, slots: list[Slot], nodes: list[Node]) -> None:
    if not isinstance(value, dict) or info is None:
        return
    nodes.append(Node(value, info))
    for key, child in list(value.items()):
        element = info.elements.get(key)
        if element is None:
            slots.append(Slot(value, key, None))
            if key[:1] == "_" and key[1:] in info.elements:
                extension = type_info(PRIMITIVE_EXTENSION)
                for item in child if isinstance(child, list) else [child]:
                    _survey(item, extension, slots, nodes)
            continue
        slots.append(Slot(value, key, element))
        items = child if isinstance(child, list) else [child]
        if isinstance(child, list):
            slots.extend(Slot(child, index, element) for index in range(len(child)))
        if element.primitive is not None:
            continue
        for item in items:
            if element.type_name == ANY_RESOURCE:
                _survey(item, _resource_info(item), slots, nodes)
            else:
                _survey(item, type_info(str(element.type_name)), slots, nodes)


def survey(resource: dict[str, Any]) -> tuple[list[Slot], list[Node]]:
    """Every value position and every typed object of ``resource`` (mutated or not)."""
    slots: list[Slot] = []
    nodes: list[Node] = []
    _survey(resource, _resource_info(resource), slots, nodes)
    return slots, nodes


# --- generated element values ---------------------------------------------------------------


def _primitive_value(draw: st.DrawFn, element: ElementInfo, tricky: bool) -> Any:
    code = str(element.primitive)
    if tricky:
        return draw(_tricky(code))
    if element.codes:
        return draw(st.sampled_from(sorted(element.codes)))
    if element.code_pattern is not None:
        return "application/pdf"
    return _VALID[code]


def _object(draw: st.DrawFn, info: TypeInfo, depth: int, tricky: bool) -> dict[str, Any]:
    """An object of type ``info``: its required elements (usually) and a few others."""
    names = sorted(info.elements)
    picked = [name for name in info.required if draw(st.integers(0, 9)) > 0]
    for prefix in info.required_choices:
        options = sorted(n for n in names if info.elements[n].choice == prefix)
        picked.append(draw(st.sampled_from(options)))
    if depth < 2:
        picked += draw(st.lists(st.sampled_from(names), max_size=2))
    obj: dict[str, Any] = {"resourceType": info.name} if info.is_resource else {}
    for name in picked:
        if name == "contained" or (name in ("extension", "modifierExtension") and depth > 1):
            continue
        obj[name] = element_value(draw, info.elements[name], depth + 1, tricky)
    if not obj:
        obj["id"] = "x"
    return obj


def element_value(draw: st.DrawFn, element: ElementInfo, depth: int, tricky: bool) -> Any:
    """A value for ``element`` (a list when it repeats); ``tricky`` values probe the rules."""
    if element.primitive is not None:
        single = _primitive_value(draw, element, tricky)
    elif element.type_name == ANY_RESOURCE:
        single = draw(st.sampled_from([patient, coverage, claim]))(id="c1")
    elif element.type_name == "Extension":
        single = extension(draw, depth, tricky)
    else:
        single = _object(draw, type_info(str(element.type_name)), depth, tricky)
    return [single] if element.is_list else single


def extension(draw: st.DrawFn, depth: int, tricky: bool) -> dict[str, Any]:
    """An Extension: a url, then a value[x], nested extensions, both, or neither."""
    ext: dict[str, Any] = {}
    url = draw(_EXTENSION_URLS) if tricky else "http://example.org/x"
    if url is not None:
        ext["url"] = url
    info = type_info("Extension")
    shapes = ["value", "value", "nested", "both", "none"] if tricky else ["value", "nested"]
    shape = draw(st.sampled_from(shapes))
    if shape in ("value", "both") or depth >= 3:
        name = draw(st.sampled_from(sorted(n for n, e in info.elements.items() if e.choice)))
        ext[name] = element_value(draw, info.elements[name], depth + 1, tricky)
    if shape in ("nested", "both") and depth < 3:
        ext["extension"] = [extension(draw, depth + 1, tricky)]
    return ext


_PRIMITIVE_EXTENSIONS: Final = [
    {}, {"id": "a"}, {"id": ""}, {"extension": []}, {"fhir_comments": "c"}, {"url": "x"},
    [None], [], "x", None, [{}],
]  # fmt: skip
_UNKNOWN_KEYS: Final = [
    "foo", "_foo", "resourceType", "fhir_comments", "class_fhir", "status__ext", "_id",
    "valueString", "value[x]", "", "extension ", "_extension", "_text",
]  # fmt: skip


# --- mutations ------------------------------------------------------------------------------

_Mutation = Callable[[st.DrawFn, list[Slot], list[Node]], None]


def _set(slot: Slot, value: Any) -> None:
    slot.parent[slot.key] = value  # type: ignore[index]


def _typed_primitive(draw: st.DrawFn, slots: list[Slot], nodes: list[Node]) -> None:
    """A primitive gets a boundary value of its own FHIR type (its type drawn first)."""
    groups: dict[str, list[Slot]] = {}
    for slot in slots:
        if slot.element is not None and slot.element.primitive is not None:
            groups.setdefault(slot.element.primitive, []).append(slot)
    if not groups:
        return
    target = draw(st.sampled_from(groups[draw(st.sampled_from(sorted(groups)))]))
    assert target.element is not None
    value = _primitive_value(draw, target.element, tricky=True)
    list_item = isinstance(target.parent, list)
    _set(target, value if list_item or not target.element.is_list else [value])


def _wrong_json(draw: st.DrawFn, slots: list[Slot], nodes: list[Node]) -> None:
    """Any value becomes some other JSON (wrong type, null, empty, nested nonsense)."""
    if slots:
        _set(draw(st.sampled_from(slots)), draw(_JSON))


def _drop(draw: st.DrawFn, slots: list[Slot], nodes: list[Node]) -> None:
    """An element (or a list entry) disappears."""
    if slots:
        slot = draw(st.sampled_from(slots))
        if isinstance(slot.parent, dict):
            slot.parent.pop(str(slot.key), None)
        elif isinstance(slot.key, int) and slot.key < len(slot.parent):
            del slot.parent[slot.key]


def _add_element(draw: st.DrawFn, slots: list[Slot], nodes: list[Node]) -> None:
    """An object gains one of its own elements (a second choice, a new nested type, ...)."""
    if nodes:
        node = draw(st.sampled_from(nodes))
        name = draw(st.sampled_from(sorted(node.info.elements)))
        tricky = draw(st.booleans())
        node.obj[name] = element_value(draw, node.info.elements[name], 1, tricky)


def _unknown_key(draw: st.DrawFn, slots: list[Slot], nodes: list[Node]) -> None:
    """An object gains a key that is no element of its type."""
    if nodes:
        node = draw(st.sampled_from(nodes))
        node.obj[draw(st.sampled_from(_UNKNOWN_KEYS))] = draw(_JSON)


def _primitive_extension(draw: st.DrawFn, slots: list[Slot], nodes: list[Node]) -> None:
    """A primitive gains an ``_element`` sibling of some shape (and may lose its value)."""
    targets = [
        s
        for s in slots
        if isinstance(s.parent, dict) and s.element is not None and s.element.primitive
    ]
    if not targets:
        return
    slot = draw(st.sampled_from(targets))
    assert isinstance(slot.parent, dict) and isinstance(slot.key, str)
    good = {"extension": [extension(draw, 1, tricky=False)]}
    shapes = [*_PRIMITIVE_EXTENSIONS, good, [good], [None, good], {"id": "a", **good}]
    slot.parent["_" + slot.key] = copy.deepcopy(draw(st.sampled_from(shapes)))
    if draw(st.booleans()):
        slot.parent.pop(slot.key)
    elif draw(st.booleans()):
        slot.parent[slot.key] = [None]


def _extensions_instead(draw: st.DrawFn, slots: list[Slot], nodes: list[Node]) -> None:
    """A primitive keeps only its ``_element`` sibling: required, repeating and choice ones.

    R4 extensibility.html#Special-Case: an element of minimum cardinality 1 may be present
    with extensions and no value; the model's rules for that differ for lists and choices.
    """
    kinds: dict[str, list[Slot]] = {}
    for slot in slots:
        element = slot.element
        if isinstance(slot.parent, dict) and element is not None and element.primitive:
            kind = "required" if element.required else "choice" if element.choice else "other"
            kinds.setdefault(kind + ("-list" if element.is_list else ""), []).append(slot)
    if not kinds:
        return
    slot = draw(st.sampled_from(kinds[draw(st.sampled_from(sorted(kinds)))]))
    assert isinstance(slot.parent, dict) and isinstance(slot.key, str) and slot.element
    good = {"extension": [extension(draw, 1, tricky=False)]}
    if slot.element.is_list:
        shapes: list[Any] = [[good], [None, good], [good, good], good, [{"id": "a"}]]
        values: list[Any] = [None, None, [None], [None, None], [None, "x"], []]
    else:
        shapes = [good, good, {"id": "a"}, {"id": "a", **good}, [good]]
        values = [None, None, "x"]
    slot.parent.pop(slot.key)
    slot.parent["_" + slot.key] = copy.deepcopy(draw(st.sampled_from(shapes)))
    value = draw(st.sampled_from(values))
    if value is not None:
        slot.parent[slot.key] = value


def _extension(draw: st.DrawFn, slots: list[Slot], nodes: list[Node]) -> None:
    """An object gains an extension or modifierExtension of some shape."""
    targets = [n for n in nodes if "extension" in n.info.elements]
    if targets:
        node = draw(st.sampled_from(targets))
        name = "modifierExtension" if "modifierExtension" in node.info.elements else "extension"
        name = draw(st.sampled_from(["extension", name]))
        node.obj.setdefault(name, [])
        if isinstance(node.obj[name], list):
            node.obj[name].append(extension(draw, 1, tricky=True))


def _contained(draw: st.DrawFn, slots: list[Slot], nodes: list[Node]) -> None:
    """A resource gains contained resources: valid, nested, typeless, or of an unknown type."""
    targets = [n for n in nodes if "contained" in n.info.elements]
    if not targets:
        return
    node = draw(st.sampled_from(targets))
    build = draw(st.sampled_from([patient, coverage, claim]))
    options: list[Any] = [
        build(id="c1"),
        build(),
        build(id="c1", contained=[patient(id="c2")]),
        {"resourceType": "Nope", "id": "c1"},
        {"id": "c1"},
        {"resourceType": "Patient", "id": "c1", "resourceType ": 1},
        {"resourceType": "Bundle", "type": "collection"},
        {"resourceType": "Resource", "id": "c1"},
        {"resourceType": "Money", "value": 1},
    ]
    node.obj["contained"] = [draw(st.sampled_from(options))]


def _reshape(draw: st.DrawFn, slots: list[Slot], nodes: list[Node]) -> None:
    """A value is wrapped in an array, an array is unwrapped, or becomes empty."""
    if not slots:
        return
    slot = draw(st.sampled_from(slots))
    value = slot.parent[slot.key]  # type: ignore[index]
    if isinstance(value, list):
        _set(slot, draw(st.sampled_from([value[0] if value else None, [], value + value])))
    else:
        _set(slot, draw(st.sampled_from([[value], {}, ""])))


MUTATIONS: Final[tuple[_Mutation, ...]] = (
    _typed_primitive, _typed_primitive, _typed_primitive, _wrong_json, _drop, _add_element,
    _add_element, _unknown_key, _primitive_extension, _extensions_instead, _extension,
    _extension, _contained, _reshape,
)  # fmt: skip


# --- the case strategies --------------------------------------------------------------------


@st.composite
def mutated_cases(draw: st.DrawFn, pool: list[dict[str, Any]]) -> dict[str, Any]:
    """A deep copy of a seed from ``pool`` with one to three mutations applied."""
    resource: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(pool)))
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 3]))):
        slots, nodes = survey(resource)
        draw(st.sampled_from(MUTATIONS))(draw, slots, nodes)
    return resource


@st.composite
def primitive_cases(draw: st.DrawFn) -> dict[str, Any]:
    """One boundary value of a primitive type (each type equally likely), where it is used."""
    code = draw(st.sampled_from(sorted(PRIMITIVES)))
    value = draw(_tricky(code))
    if code == "xhtml":
        return patient(text={"status": "generated", "div": value})
    ext = {"url": "http://example.org/x", f"value{code[0].upper()}{code[1:]}": value}
    resource = claim()
    host = draw(st.sampled_from([resource, resource["item"][0], resource["total"]]))
    host["extension"] = [ext]
    return resource


@st.composite
def special_cases(draw: st.DrawFn) -> dict[str, Any]:
    """A small seed whose primitives are replaced by ``_element`` siblings of any shape."""
    resource: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(special_seeds())))
    for _ in range(draw(st.sampled_from([1, 1, 2]))):
        slots, nodes = survey(resource)
        draw(st.sampled_from([_extensions_instead, _extensions_instead, _primitive_extension]))(
            draw, slots, nodes
        )
    return resource
