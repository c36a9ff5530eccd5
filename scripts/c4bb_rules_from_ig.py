"""Derive ``profiles/carin_bb.py`` from the CARIN for Blue Button 2.0.0 package (run by hand).

Reads the StructureDefinition snapshots of the C4BB ExplanationOfBenefit profiles (the abstract
base and the Professional-NonClinician, Inpatient-Institutional and Outpatient-Institutional
profiles), keeps what a checker needs (cardinalities that require or forbid something, required
bindings, fixed and pattern values, slices with their discriminators and contents, the profiles'
own invariants) and expands the required value sets it can (codes listed in the package, or a
whole code system). A concrete profile keeps only the rows that differ from the abstract base.

Usage: ``python scripts/c4bb_rules_from_ig.py hl7.fhir.us.carin-bb-2.0.0.tgz profiles/carin_bb.py``
"""

from __future__ import annotations

import json
import re
import sys
import tarfile
from pathlib import Path
from typing import Any

Json = dict[str, Any]

_SD = "package/StructureDefinition-{}.json"
BASE = "C4BB-ExplanationOfBenefit"
CONCRETE = (
    ("PROFESSIONAL_NONCLINICIAN", "C4BB-ExplanationOfBenefit-Professional-NonClinician"),
    ("INPATIENT_INSTITUTIONAL", "C4BB-ExplanationOfBenefit-Inpatient-Institutional"),
    ("OUTPATIENT_INSTITUTIONAL", "C4BB-ExplanationOfBenefit-Outpatient-Institutional"),
)

# Value sets the profiles bind (required) that the package names but does not carry: R4 core
# (terminology.hl7.org) and VSAC lists, as (system, codes); () is every code of the system.
OUTSIDE_VALUE_SETS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "http://hl7.org/fhir/ValueSet/claim-type": (
        ("http://terminology.hl7.org/CodeSystem/claim-type",
         ("institutional", "oral", "pharmacy", "professional", "vision")),),
    "http://hl7.org/fhir/ValueSet/process-priority": (
        ("http://terminology.hl7.org/CodeSystem/processpriority", ("stat", "normal", "deferred")),),
    "http://cts.nlm.nih.gov/fhir/ValueSet/2.16.840.1.114222.4.11.1066": (
        ("http://nucc.org/provider-taxonomy", ()),),
}

_PREFIXES = (
    ("_CS", "http://hl7.org/fhir/us/carin-bb/CodeSystem/"),
    ("_VS", "http://hl7.org/fhir/us/carin-bb/ValueSet/"),
    ("_SD", "http://hl7.org/fhir/us/carin-bb/StructureDefinition/"),
    ("_THO", "http://terminology.hl7.org/CodeSystem/"),
)


class Package:
    def __init__(self, path: Path) -> None:
        self.files: dict[str, Json] = {}
        with tarfile.open(path, "r:gz") as tar:
            for member in tar.getmembers():
                if member.isfile() and member.name.endswith(".json") \
                        and member.name.count("/") == 1:
                    handle = tar.extractfile(member)
                    if handle is not None:
                        self.files[member.name] = json.load(handle)
        self.value_sets = {j["url"]: j for j in self.files.values()
                           if j.get("resourceType") == "ValueSet"}
        self.code_systems = {j["url"]: j for j in self.files.values()
                             if j.get("resourceType") == "CodeSystem"}

    def sd(self, name: str) -> Json:
        return self.files[_SD.format(name)]

    def expand(self, url: str) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
        url = url.split("|")[0]
        if url in OUTSIDE_VALUE_SETS:
            return OUTSIDE_VALUE_SETS[url]
        vs = self.value_sets.get(url)
        if vs is None:
            return None
        out: dict[str, list[str] | None] = {}
        for inc in vs.get("compose", {}).get("include", []):
            for nested in inc.get("valueSet", []):
                for system, listed in self.expand(nested) or ():
                    self._merge(out, system, list(listed) or None)
            if "system" in inc:
                codes = [c["code"] for c in inc.get("concept", [])] or None
                self._merge(out, inc["system"], codes)
        return tuple((s, tuple(c or ())) for s, c in out.items())

    @staticmethod
    def _merge(out: dict[str, list[str] | None], system: str, codes: list[str] | None) -> None:
        if system in out and (out[system] is None or codes is None):
            out[system] = None  # a whole-system include absorbs listed codes
        elif system in out:
            out[system] = [*(out[system] or []), *(c for c in codes or [] if c not in
                                                    (out[system] or []))]
        else:
            out[system] = codes


def _path(element_id: str) -> tuple[str, str, str]:
    """(sliced element path, slice name, path inside the slice), resource prefix removed; type
    slices (``value[x]:valueString``) become the concrete element name."""
    parts = element_id.split(".")[1:]
    out: list[str] = []
    sliced, name = "", ""
    inner: list[str] = []
    for part in parts:
        base, _, slice_name = part.partition(":")
        if slice_name and base.endswith("[x]"):
            part = slice_name
        elif slice_name:
            sliced, name, inner = ".".join([*out, base]), slice_name, []
            out.append(base)
            continue
        else:
            part = base
        (inner if name else out).append(part)
    return (sliced, name, ".".join(inner)) if name else ("", "", ".".join(out))


def _pattern(element: Json) -> Any:
    for key, value in element.items():
        if not key.startswith(("pattern", "fixed")):
            continue
        if isinstance(value, dict) and "coding" in value:
            return tuple((c.get("system", ""), c.get("code", "")) for c in value["coding"])
        if isinstance(value, dict) and "code" in value:
            return ((value.get("system", ""), value["code"]),)
        return value
    return None


def _row(element: Json, pkg: Package, bindings: set[str]) -> Json | None:
    lo, hi = element.get("min", 0), element.get("max", "*")
    base_hi = element.get("base", {}).get("max", "*")
    binding = element.get("binding", {})
    vs = ""
    if binding.get("strength") == "required" and pkg.expand(binding.get("valueSet", "")):
        vs = binding["valueSet"].split("|")[0]
        bindings.add(vs)
    pattern = _pattern(element)
    if not (lo >= 1 or hi != base_hi or vs or pattern is not None):
        return None
    row: Json = {"min": lo, "max": None if hi == "*" else int(hi), "binding": vs,
                 "pattern": pattern, "types": ()}
    if element["path"].endswith("[x]"):
        row["types"] = tuple(t["code"] for t in element.get("type", []))
    return row


def rules(pkg: Package, name: str, bindings: set[str]) -> tuple[dict[str, Json], dict[str, Json]]:
    """Element rows by path and slices by ``path:name`` of one profile's snapshot."""
    elements: dict[str, Json] = {}
    slices: dict[str, Json] = {}
    sliced_on: dict[str, str] = {}
    for element in pkg.sd(name)["snapshot"]["element"]:
        sliced, slice_name, path = _path(element["id"])
        if not sliced and "slicing" in element and not element["path"].endswith("[x]"):
            discriminator = element["slicing"]["discriminator"][0]
            if discriminator["type"] == "pattern":
                sliced_on[path] = discriminator["path"]
        if slice_name and sliced in sliced_on:
            key = f"{sliced}:{slice_name}"
            if not path:
                slices[key] = {"path": sliced, "name": slice_name, "min": element.get("min", 0),
                               "max": None if element.get("max") == "*" else int(element["max"]),
                               "on": sliced_on[sliced], "pattern": None, "member_of": "",
                               "elements": {}}
                continue
            row = _row(element, pkg, bindings)
            if row is None:
                continue
            if path == slices[key]["on"]:
                if row["pattern"] is not None:
                    slices[key]["pattern"] = row["pattern"]
                elif row["binding"]:
                    slices[key]["member_of"] = row["binding"]
                continue
            outer = elements.get(f"{sliced}.{path}")
            if outer is None or outer != row:
                slices[key]["elements"][path] = row
        elif not slice_name:
            row = _row(element, pkg, bindings)
            if row is not None:
                elements[path] = row
    return elements, slices


def invariants(pkg: Package, name: str) -> tuple[tuple[str, str], ...]:
    found = []
    for element in pkg.sd(name)["differential"]["element"]:
        for c in element.get("constraint", []):
            found.append((c["key"], " ".join(c["human"].split())))
    return tuple(found)


# -- emitting Python source -----------------------------------------------------------------

def _string(value: str) -> str:
    for alias, prefix in _PREFIXES:
        if value.startswith(prefix) and len(value) > len(prefix):
            return f"{alias} + {value[len(prefix):]!r}"
    return repr(value)


def _atom(value: Any) -> str:
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, tuple):
        inner = ", ".join(_atom(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def _fill(head: str, args: list[str], indent: int, tail: str = ")", lead: int = 0) -> str:
    """``head`` then ``args`` packed on lines of at most 99 characters, continuation lines
    indented by four (``lead``: what precedes ``head`` on its line); a one-element tuple keeps
    its comma."""
    single = "," if len(args) == 1 and head.endswith("=(") else ""
    one = f"{head}{', '.join(args)}{single}{tail}"
    if lead + indent + len(one) <= 99 and "\n" not in one:
        return one
    pad = " " * (indent + 4)
    lines = [head.rstrip()]
    width = lead + indent + len(head)
    fresh = True  # the current line holds only the head or the padding
    for n, arg in enumerate(args):
        piece = arg + ("," if n < len(args) - 1 or single else "")
        end = len(tail) if n == len(args) - 1 else 0
        if "\n" in arg or (not fresh and width + 1 + len(piece) + end > 99) \
                or (fresh and width + len(piece) + end > 99 and len(lines) > 1):
            lines.append(pad + piece)
            width = len(pad) + len(piece.split("\n")[-1])
        elif fresh and len(lines) == 1 and width + len(piece) + end > 99:
            lines.append(pad + piece)
            width = len(pad) + len(piece)
        else:
            sep = "" if fresh and len(lines) == 1 or lines[-1].endswith("(") else " "
            lines[-1] += sep + piece
            width += len(sep) + len(piece)
        fresh = False
    return "\n".join(lines) + tail


def _join_short(lines: list[str]) -> list[str]:
    """A value set with one short include on one line."""
    if len(lines) == 2 and "\n" not in lines[1]:
        one = lines[0] + lines[1].strip() + "),"
        if len(one) <= 99:
            return [one]
    return [*lines, "    ),"]


def _codes(codes: tuple[str, ...], indent: int) -> str:
    return _fill("(", [repr(c) for c in codes], indent) if len(codes) > 1 else _atom(codes)


def _wrap_text(text: str, indent: int) -> str:
    words, lines, line = text.split(" "), [], ""
    for word in words:
        if line and indent + len(line) + len(word) + 4 > 96:
            lines.append(line + " ")
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    if len(lines) == 1:
        return repr(lines[0])
    pad = " " * indent
    return "(" + f"\n{pad} ".join(repr(x) for x in lines) + ")"


def _element(path: str, row: Json, indent: int) -> str:
    args = [repr(path), str(row["min"]), repr(row["max"])]
    for key in ("binding", "pattern", "types"):
        if row[key] not in ("", None, ()) and not (key == "types" and row["max"] == 0):
            args.append(f"{key}={_atom(row[key])}")
    return _fill("Element(", args, indent)


def _compact(rows: dict[str, Json]) -> dict[str, Json]:
    """A choice row is dropped when the row of its one allowed type says the same."""
    out = {}
    for path, row in rows.items():
        if path.endswith("[x]") and len(row["types"]) == 1:
            typed = path[:-3] + row["types"][0][0].upper() + row["types"][0][1:]
            if typed in rows and rows[typed]["min"] >= row["min"]:
                continue
        if not path.endswith("[x]"):
            row = {**row, "types": ()}
        out[path] = row
    return out


def _slice(s: Json, indent: int, head: str = "Slice(", lead: int = 0) -> str:
    args = [repr(s["path"]), repr(s["name"]), str(s["min"]), repr(s["max"]), repr(s["on"])]
    if s["pattern"] is not None:
        args.append(f"pattern={_atom(s['pattern'])}")
    if s["member_of"]:
        args.append(f"member_of={_atom(s['member_of'])}")
    rows = _compact(s["elements"])
    if rows:
        inner = [_element(p, r, indent + 8) for p, r in rows.items()]
        args.append(_fill("elements=(", inner, indent + 4))
    return _fill(head, args, indent, lead=lead)


def _slice_var(s: Json) -> str:
    return "_" + re.sub(r"\W", "_", f"{s['path']}_{s['name']}").upper()


def _profile(var: str, sd: Json, parent: str, rows: dict[str, Json], slices: dict[str, Json],
             invs: tuple[tuple[str, str], ...]) -> str:
    lines = [f"{var}: Final = Profile(", f"    name={sd['name']!r},",
             f"    url={_string(sd['url'])},", f"    version={sd['version']!r},",
             f"    parent={parent},", "    elements=("]
    lines += [f"        {_element(p, r, 8)}," for p, r in _compact(rows).items()]
    lines += ["    ),", "    slices=("]
    lines += [f"        {_slice_var(s) if s.get('shared') else _slice(s, 8)},"
              for s in slices.values()]
    lines += ["    ),", "    invariants=("]
    for key, human in invs:
        lines.append(f"        ({key!r},\n         {_wrap_text(human, 9)}),")
    lines += ["    ),", ")", ""]
    return "\n".join(lines)


def generate(tgz: Path) -> str:
    pkg = Package(tgz)
    bindings: set[str] = set()
    base_rows, base_slices = rules(pkg, BASE, bindings)
    parts = [_profile("BASE", pkg.sd(BASE), "None", base_rows, base_slices,
                      invariants(pkg, BASE))]
    names = ["BASE"]
    concrete = []
    for var, name in CONCRETE:
        rows, slices = rules(pkg, name, bindings)
        own_rows = {p: r for p, r in rows.items() if base_rows.get(p) != r}
        own_slices = {k: s for k, s in slices.items() if base_slices.get(k) != s}
        concrete.append((var, name, own_rows, own_slices))
    seen: dict[str, list[Json]] = {}
    for _, _, _, own_slices in concrete:
        for s in own_slices.values():
            seen.setdefault(json.dumps(s, sort_keys=True), []).append(s)
    shared = []
    for group in seen.values():
        for s in group:
            s["shared"] = len(group) > 1
        if len(group) > 1:
            shared.append(_slice(group[0], 0, f"{_slice_var(group[0])}: Final = Slice(") + "\n")
    for s in base_slices.values():
        s["shared"] = False
    parts.insert(0, "# Slices several concrete profiles share.\n" + "".join(shared))
    for var, name, own_rows, own_slices in concrete:
        parts.append(_profile(var, pkg.sd(name), "BASE", own_rows, own_slices,
                              invariants(pkg, name)))
        names.append(var)
    vs_lines = ["VALUE_SETS: Final[dict[str, tuple[tuple[str, tuple[str, ...]], ...]]] = {"]
    for url in sorted(bindings):
        expansion = pkg.expand(url) or ()
        vs_lines.append(f"    {_string(url)}: (")
        for system, codes in expansion:
            vs_lines.append("        " + _fill("(", [_string(system), _codes(codes, 8)], 8) + ",")
        vs_lines[-len(expansion) - 1:] = _join_short(vs_lines[-len(expansion) - 1:])
    vs_lines.append("}")
    body = "\n\n".join(parts)
    registry = _fill("PROFILES: Final[dict[str, Profile]] = {p.url: p for p in (",
                     names[1:], 0, ")}") + "\n"
    text = _HEADER + "\n".join(vs_lines) + "\n\n\n" + body + "\n" + registry
    text = re.sub(r"\n{4,}", "\n\n\n", text)
    return "\n".join(line + "  # noqa: E501" if len(line) > 100 else line
                     for line in text.split("\n"))


_HEADER = '''"""CARIN for Blue Button 2.0.0 ExplanationOfBenefit profiles as compact rule data.

Derived from the StructureDefinition snapshots of ``hl7.fhir.us.carin-bb`` 2.0.0
(https://hl7.org/fhir/us/carin-bb/STU2/) by ``scripts/c4bb_rules_from_ig.py``; regenerate
rather than edit. ``profiles/carin_bb_check.py`` applies them.

Paths are relative to the resource (``item.adjudication``); a choice element keeps ``[x]``
(``item.serviced[x]``) or names its type (``item.locationCodeableConcept``). An ``Element``
row says what the profile demands of every occurrence of that path: cardinality, a required
binding (a key of ``VALUE_SETS``), a pattern (codings that must be present, or a primitive
value), the types a choice may take. A ``Slice`` is a named subset of a repeating element
picked by the pattern of its discriminator (``category`` or ``type``) or, with no pattern, by
membership of a value set; its own rows apply to its members. A concrete profile lists only
what differs from ``BASE``.
"""

from __future__ import annotations

from typing import Final

from profiles.profile_rules import Element, Profile, Slice

__all__ = [
    "BASE",
    "Element",
    "INPATIENT_INSTITUTIONAL",
    "OUTPATIENT_INSTITUTIONAL",
    "PROFESSIONAL_NONCLINICIAN",
    "PROFILES",
    "Profile",
    "Slice",
    "VALUE_SETS",
]

_CS: Final = "http://hl7.org/fhir/us/carin-bb/CodeSystem/"
_VS: Final = "http://hl7.org/fhir/us/carin-bb/ValueSet/"
_SD: Final = "http://hl7.org/fhir/us/carin-bb/StructureDefinition/"
_THO: Final = "http://terminology.hl7.org/CodeSystem/"



# Required value sets as (system, codes); () is every code of that system.
'''


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    Path(argv[2]).write_text(generate(Path(argv[1])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
