"""A tiny FHIRPath compiler for the expressions of search parameters (FHIRPath N1 subset).

Search parameter expressions (``capability/search_parameter_table.py``) use a small part of
FHIRPath: member paths over arrays, ``|`` unions, parentheses, casts on choice elements
(``Condition.onset.as(dateTime)``, ``Patient.deceased as dateTime``), ``where(...)`` with
``resolve() is Patient`` or ``system = 'email'``, ``exists()``, ``and``, ``=`` / ``!=`` and
string and boolean literals. :func:`compile_expression` parses such an expression once into
plain Python closures; anything outside this subset, an element that is not in the model below
or a cast that can never match raises ``ValueError`` at compile time, so a new search parameter
cannot silently index nothing.

Evaluation yields :class:`Value` objects: the JSON node and its FHIR data type. Types are known
statically from a compact element model of the elements the expressions navigate (derived from
the R4 StructureDefinitions; ``tests/storage/test_fhirpath.py`` checks it against the R4 model of
fhirpathpy) and, for choice elements, from the JSON key (``servicedDate`` is a ``date``,
``servicedPeriod`` a ``Period``). A backbone element's type is its element path
(``Claim.item``).

Deliberate leniencies: ``as`` filters each item (FHIRPath wants a singleton on its left side; the
search registry uses it on repeating elements such as ``Group.characteristic.value``), and
``resolve() is X`` is answered without reading other resources: a literal reference names its
type (relative ``X/id``, absolute ``http://.../X/id``, versioned ``.../_history/v``), a
``#id`` reference names a contained resource, and otherwise ``Reference.type`` is used.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from server.storage.fhirpath_model import DATATYPES as _DATATYPES
from server.storage.fhirpath_model import ELEMENTS as _ELEMENTS
from server.storage.fhirpath_model import RESOURCE_ELEMENTS as _RESOURCE_ELEMENTS
from server.storage.fhirpath_model import RESOURCE_TYPE_RE as _RESOURCE_TYPE_RE
from server.storage.fhirpath_model import (
    Root,
    is_subtype,
    parse_literal_reference,
    reference_target_type,
)

__all__ = [
    "CompiledPath",
    "ElementModel",
    "Value",
    "compile_expression",
    "is_subtype",
    "parse_literal_reference",
    "reference_target_type",
]


class Value(NamedTuple):
    """One item of an evaluation result: the JSON node and its FHIR type (``None`` if unknown)."""

    node: Any
    type: str | None


_Fn = Callable[[list[Value], Root], list[Value]]

# ---------------------------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"\s*(?:(?P<str>'(?:[^'\\]|\\.)*')|(?P<op>!=|[.()|=])|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<bad>\S))"
)
_KEYWORDS = frozenset(("and", "as", "is", "true", "false"))
_ESCAPES = {"'": "'", '"': '"', "`": "`", "\\": "\\", "/": "/", "n": "\n", "r": "\r", "t": "\t"}


def _tokenize(expr: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    end = len(expr.rstrip())
    while pos < end:
        match = _TOKEN_RE.match(expr, pos)
        if match is None:  # pragma: no cover - the pattern matches any non-blank character
            break
        pos = match.end()
        kind = match.lastgroup
        text = match.group(kind or "bad")
        if kind == "bad":
            raise ValueError(f"unsupported FHIRPath syntax {text!r} in {expr!r}")
        if kind == "ident" and text in _KEYWORDS:
            kind = "kw"
        if kind == "str":
            text = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])
        tokens.append((kind or "bad", text))
    tokens.append(("end", ""))
    return tokens


# ---------------------------------------------------------------------------------------------
# Compiler: recursive descent straight to closures, with static types
# ---------------------------------------------------------------------------------------------

ElementModel = Callable[[str], "str | tuple[str, ...] | None"]


@dataclass(frozen=True, slots=True)
class _Compiled:
    fn: _Fn
    types: frozenset[str]
    #: Set when this is ``<focus>.resolve()``: the focus whose references are resolved.
    resolve_of: _Fn | None = None
    #: Set for a plain member path: (input type, JSON keys, output type); chains of these fuse.
    walk: tuple[str, tuple[str, ...], str] | None = None
    #: The result is empty unless the focus has one of these JSON keys (None: no such promise).
    needs: frozenset[str] | None = None


def _cap(type_: str) -> str:
    return type_[0].upper() + type_[1:]


def _identity(focus: list[Value], root: Root) -> list[Value]:
    return focus


def _truthy(result: list[Value]) -> bool:
    """FHIRPath singleton evaluation as a boolean: one ``true`` or one non-boolean item."""
    return len(result) == 1 and result[0].node is not False


def _fp_equal(a: Any, b: Any) -> bool:
    if type(a) is bool or type(b) is bool:
        return type(a) is type(b) and a == b
    if isinstance(a, str) is not isinstance(b, str):
        return False
    return bool(a == b)


class _Parser:
    def __init__(self, expr: str, context_type: str, model: ElementModel) -> None:
        self.expr = expr
        self.context_type = context_type
        self.model = model
        self.tokens = _tokenize(expr)
        self.pos = 0

    # -- token helpers --------------------------------------------------------------------
    def _peek(self) -> tuple[str, str]:
        return self.tokens[self.pos]

    def _next(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _expect(self, kind: str, text: str | None = None) -> str:
        got_kind, got_text = self._next()
        if got_kind != kind or (text is not None and got_text != text):
            raise ValueError(f"expected {text or kind} at {got_text!r} in {self.expr!r}")
        return got_text

    def _at(self, kind: str, text: str) -> bool:
        return self.tokens[self.pos] == (kind, text)

    def _fail(self, what: str) -> ValueError:
        return ValueError(f"{what} in {self.expr!r} (context {self.context_type})")

    # -- grammar --------------------------------------------------------------------------
    def parse(self) -> _Compiled:
        result = self._and(frozenset((self.context_type,)))
        if self._peek()[0] != "end":
            raise self._fail(f"unexpected {self._peek()[1]!r}")
        self._check_value(result)
        return result

    def _check_value(self, compiled: _Compiled) -> None:
        if compiled.resolve_of is not None:
            raise self._fail("resolve() is only supported as 'resolve() is <Type>'")

    def _and(self, focus: frozenset[str]) -> _Compiled:
        left = self._equality(focus)
        while self._at("kw", "and"):
            self._next()
            right = self._equality(focus)
            self._check_value(left)
            self._check_value(right)
            left = self._and_of(left, right)
        return left

    def _and_of(self, left: _Compiled, right: _Compiled) -> _Compiled:
        lf, rf = left.fn, right.fn

        def fn(focus: list[Value], root: Root) -> list[Value]:
            a, b = _boolean(lf(focus, root)), _boolean(rf(focus, root))
            if a is False or b is False:
                return [Value(False, "boolean")]
            if a is None or b is None:
                return []
            return [Value(True, "boolean")]

        return _Compiled(fn, frozenset(("boolean",)))

    def _equality(self, focus: frozenset[str]) -> _Compiled:
        left = self._union(focus)
        if self._at("op", "=") or self._at("op", "!="):
            negate = self._next()[1] == "!="
            right = self._union(focus)
            self._check_value(left)
            self._check_value(right)
            lf, rf = left.fn, right.fn

            def fn(focus: list[Value], root: Root) -> list[Value]:
                a, b = lf(focus, root), rf(focus, root)
                if not a or not b:
                    return []
                equal = len(a) == len(b) and all(
                    _fp_equal(x.node, y.node) for x, y in zip(a, b, strict=True)
                )
                return [Value(equal != negate, "boolean")]

            return _Compiled(fn, frozenset(("boolean",)))
        return left

    def _union(self, focus: frozenset[str]) -> _Compiled:
        left = self._type_op(focus)
        while self._at("op", "|"):
            self._next()
            right = self._type_op(focus)
            self._check_value(left)
            self._check_value(right)
            lf, rf = left.fn, right.fn

            def fn(focus: list[Value], root: Root, lf: _Fn = lf, rf: _Fn = rf) -> list[Value]:
                out: list[Value] = []
                for value in lf(focus, root) + rf(focus, root):
                    if not any(_fp_equal(value.node, seen.node) for seen in out):
                        out.append(value)
                return out

            needs = None
            if left.needs is not None and right.needs is not None:
                needs = left.needs | right.needs
            left = _Compiled(fn, left.types | right.types, needs=needs)
        return left

    def _type_specifier(self) -> str:
        name = self._expect("ident")
        if name in ("FHIR", "System") and self._at("op", "."):
            self._next()
            if name == "System":
                raise self._fail("System types are not supported")
            name = self._expect("ident")
        return name

    def _type_op(self, focus: frozenset[str]) -> _Compiled:
        left = self._postfix(focus)
        if self._at("kw", "as") or self._at("kw", "is"):
            op = self._next()[1]
            type_name = self._type_specifier()
            if op == "as":
                self._check_value(left)
                return self._cast(left, type_name)
            return self._is(left, type_name)
        return left

    def _cast(self, left: _Compiled, type_name: str) -> _Compiled:
        if type_name not in _DATATYPES:
            raise self._fail(f"cannot cast to unknown type {type_name!r}")
        kept = frozenset(t for t in left.types if is_subtype(t, type_name))
        if not kept:
            raise self._fail(f"no value of {sorted(left.types)} can be a {type_name}")
        lf = left.fn

        def fn(focus: list[Value], root: Root) -> list[Value]:
            return [v for v in lf(focus, root) if v.type in kept]

        return _Compiled(fn, kept, needs=left.needs)

    def _is(self, left: _Compiled, type_name: str) -> _Compiled:
        source = left.resolve_of
        if source is not None:
            if _RESOURCE_TYPE_RE.fullmatch(type_name) is None or type_name in _DATATYPES:
                raise self._fail(f"'resolve() is {type_name}' needs a resource type")

            def resolved(focus: list[Value], root: Root) -> list[Value]:
                refs = source(focus, root)
                if len(refs) != 1:
                    return []
                target = reference_target_type(refs[0].node, root)
                return [Value(target == type_name, "boolean")]

            return _Compiled(resolved, frozenset(("boolean",)))
        if type_name not in _DATATYPES:
            raise self._fail(f"'is' needs a data type, not {type_name!r}")
        lf = left.fn

        def fn(focus: list[Value], root: Root) -> list[Value]:
            items = lf(focus, root)
            if len(items) != 1:
                return []
            return [Value(is_subtype(items[0].type, type_name), "boolean")]

        return _Compiled(fn, frozenset(("boolean",)))

    def _postfix(self, focus: frozenset[str]) -> _Compiled:
        current = self._term(focus)
        while self._at("op", "."):
            self._next()
            kind, name = self._next()
            if kind not in ("ident", "kw"):
                raise self._fail(f"expected a name at {name!r}")
            if self._at("op", "("):
                current = self._function(current, name)
            else:
                self._check_value(current)
                step = self._member(current.types, name)
                current = _chain(current, step)
        return current

    def _term(self, focus: frozenset[str]) -> _Compiled:
        kind, text = self._next()
        if kind == "op" and text == "(":
            inner = self._and(focus)
            self._expect("op", ")")
            return inner
        if kind == "str":
            literal = [Value(text, "string")]
            return _Compiled(lambda f, r: literal, frozenset(("string",)))
        if kind == "kw" and text in ("true", "false"):
            boolean = [Value(text == "true", "boolean")]
            return _Compiled(lambda f, r: boolean, frozenset(("boolean",)))
        if kind == "ident":
            this = _Compiled(_identity, focus)
            if self._at("op", "("):
                return self._function(this, text)
            if text in focus and "." not in text and text[0].isupper():
                return this  # the type name the expression is rooted in (``Claim.id``)
            return _chain(this, self._member(focus, text))
        raise self._fail(f"unexpected {text!r}")

    def _function(self, target: _Compiled, name: str) -> _Compiled:
        self._expect("op", "(")
        self._check_value(target)
        if name in ("as", "ofType"):
            type_name = self._type_specifier()
            self._expect("op", ")")
            return self._cast(target, type_name)
        if name == "where":
            criteria = self._and(target.types)
            self._expect("op", ")")
            self._check_value(criteria)
            tf, cf = target.fn, criteria.fn

            def where(focus: list[Value], root: Root) -> list[Value]:
                return [v for v in tf(focus, root) if _truthy(cf([v], root))]

            return _Compiled(where, target.types, needs=target.needs)
        self._expect("op", ")")
        if name == "exists":
            tf = target.fn

            def exists(focus: list[Value], root: Root) -> list[Value]:
                return [Value(bool(tf(focus, root)), "boolean")]

            return _Compiled(exists, frozenset(("boolean",)))
        if name == "resolve":
            if not any(is_subtype(t, "Reference") or is_subtype(t, "uri") for t in target.types):
                raise self._fail("resolve() needs references")
            return _Compiled(target.fn, frozenset(), resolve_of=target.fn, needs=target.needs)
        raise self._fail(f"unsupported function {name}()")

    def _member(self, owners: frozenset[str], name: str) -> _Compiled:
        table: dict[str, tuple[tuple[str, str], ...]] = {}
        for owner in owners:
            keys = self._lookup(owner, name)
            if keys:
                table[owner] = keys
        if not table:
            raise self._fail(f"unknown element {name!r} on {sorted(owners)}")
        out = frozenset(t for keys in table.values() for _, t in keys)
        needs = frozenset(key for keys in table.values() for key, _ in keys)
        if len(table) == 1:
            ((owner, keys),) = table.items()
            if len(keys) == 1:
                walk = (owner, (keys[0][0],), keys[0][1])
                return _Compiled(_walk_fn(*walk), out, walk=walk, needs=needs)
        return _Compiled(_member_step(table), out, needs=needs)

    def _lookup(self, owner: str, name: str) -> tuple[tuple[str, str], ...]:
        spec = self.model(f"{owner}.{name}")
        if spec is None and "." not in owner and owner not in _DATATYPES:
            spec = _RESOURCE_ELEMENTS.get(name)
        if isinstance(spec, str):
            return ((name, spec),)
        if isinstance(spec, tuple):  # a choice element: one JSON key per type
            return tuple((name + _cap(t), t) for t in spec)
        for i in range(1, len(name)):  # a choice element named with its type: servicedDate
            if name[i].isupper():
                choice = self.model(f"{owner}.{name[:i]}")
                if isinstance(choice, tuple):
                    for t in choice:
                        if _cap(t) == name[i:]:
                            return ((name, t),)
        return ()


def _boolean(result: list[Value]) -> bool | None:
    """A boolean operand: empty (unknown) is None; one item is its truth; more is unknown."""
    if len(result) != 1:
        return None
    return result[0].node is not False


def _chain(first: _Compiled, second: _Compiled) -> _Compiled:
    if first.fn is _identity:
        return second
    if first.walk is not None and second.walk is not None and first.walk[2] == second.walk[0]:
        walk = (first.walk[0], first.walk[1] + second.walk[1], second.walk[2])
        return _Compiled(_walk_fn(*walk), second.types, walk=walk, needs=first.needs)
    ff, sf = first.fn, second.fn

    def fn(focus: list[Value], root: Root) -> list[Value]:
        return sf(ff(focus, root), root)

    return _Compiled(fn, second.types, needs=first.needs)


def _walk_fn(in_type: str, keys: tuple[str, ...], out_type: str) -> _Fn:
    """Member navigation along ``keys`` on raw JSON, arrays flattened; Values only at the end."""

    def walk(focus: list[Value], root: Root) -> list[Value]:
        nodes = [v.node for v in focus if v.type == in_type]
        for key in keys:
            found: list[Any] = []
            for node in nodes:
                if type(node) is dict:
                    child = node.get(key)
                    if child is None:
                        continue
                    if type(child) is list:
                        found.extend(child)
                    else:
                        found.append(child)
            if not found:
                return []
            nodes = found
        return [Value(node, out_type) for node in nodes if node is not None]

    return walk


def _member_step(table: dict[str, tuple[tuple[str, str], ...]]) -> _Fn:
    def many(focus: list[Value], root: Root) -> list[Value]:
        out: list[Value] = []
        for value in focus:
            node = value.node
            if type(node) is not dict:
                continue
            for key, out_type in table.get(value.type or "", ()):
                child = node.get(key)
                if child is None:
                    continue
                if type(child) is list:
                    out.extend(Value(c, out_type) for c in child if c is not None)
                else:
                    out.append(Value(child, out_type))
        return out

    return many


@dataclass(frozen=True, slots=True)
class CompiledPath:
    """A compiled expression: :meth:`evaluate` it on resources of ``context_type``."""

    expression: str
    context_type: str
    #: Every FHIR type the result may hold (a backbone element's type is its path).
    types: frozenset[str]
    #: The result is empty unless the resource has one of these top-level keys (None: it may
    #: not be, as for ``Patient.deceased.exists()``); lets callers skip absent elements cheaply.
    needs: frozenset[str] | None
    _fn: _Fn

    def evaluate(self, resource: Mapping[str, Any]) -> list[Value]:
        """The items the expression selects in ``resource`` (a resource of ``context_type``,
        or the element of that path when the context is a backbone element)."""
        return self._fn([Value(resource, self.context_type)], resource)


def _model(path: str) -> str | tuple[str, ...] | None:
    return _ELEMENTS.get(path)


def compile_expression(
    expr: str, resource_type: str, *, model: ElementModel | None = None
) -> CompiledPath:
    """Compile ``expr`` for resources of ``resource_type`` (or, for a component of a composite
    parameter, for the backbone element path it is relative to, e.g. ``Group.characteristic``).

    ``model`` maps ``"<owner>.<element>"`` to a type (tests pass another one); it defaults to the
    built-in model. Raises ``ValueError`` for anything outside the supported subset."""
    parsed = _Parser(expr, resource_type, model or _model).parse()
    return CompiledPath(expr, resource_type, parsed.types, parsed.needs, parsed.fn)
