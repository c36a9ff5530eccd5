"""Derive the guide schemas in ``mappers/x12/guides/`` from pyx12's TR3 maps (run by hand).

pyx12 (BSD-3) ships XML maps for 837P X222A1, 837I X223A2, 835 X221A1, 277CA X214, 277 X212 and
999 X231A1. This script reads one map and writes our compact JSON form of the transaction set
(ST..SE): loops, segments, elements with usage, repeats, types, lengths and the codes the guide
fixes. Where pyx12's map departs from the TR3, the ``CORRECTIONS`` below put the guide back.

Usage: ``python scripts/x12_guides_from_pyx12.py MAP.xml OUT.json`` or
``... --code-sets MAP_DIR code_sets.json``
(``pip install pyx12==4.0.0`` gives the maps under ``site-packages/pyx12/map``).
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

Node = dict[str, Any]


def _data_elements(map_dir: Path) -> dict[str, tuple[str, int, int]]:
    root = ET.parse(map_dir / "dataele.xml").getroot()
    return {
        d.get("ele_num", ""): (d.get("data_type", "AN"), int(d.get("min_len", "1")),
                               int(d.get("max_len", "1")))
        for d in root.iter("data_ele")
    }


def _repeat(text: str | None) -> int | None:
    """``>1`` means unbounded (None)."""
    if text is None or text.strip().startswith(">"):
        return None
    return int(text)


def _element(node: ET.Element, table: dict[str, tuple[str, int, int]]) -> Node:
    de = node.findtext("data_ele") or ""
    kind, lo, hi = table.get(de, ("AN", 1, 80))
    out: Node = {
        "ref": node.get("xid"),
        "de": de,
        "name": node.findtext("name"),
        "usage": node.findtext("usage"),
        "type": kind,
        "min": lo,
        "max": hi,
    }
    codes = node.find("valid_codes")
    if codes is not None:
        if codes.get("external"):
            out["external"] = codes.get("external")
        values = [c.text or "" for c in codes.iter("code")]
        if values:
            out["codes"] = values
    regex = node.findtext("regex")
    if regex:
        out["pattern"] = regex
    return out


def _composite(node: ET.Element, table: dict[str, tuple[str, int, int]]) -> Node:
    out: Node = {
        "ref": node.get("xid"),
        "de": node.findtext("data_ele"),
        "name": node.findtext("name"),
        "usage": node.findtext("usage"),
        "components": [_element(e, table) for e in node.findall("element")],
    }
    repeat = node.findtext("repeat")
    if repeat:
        out["repeat"] = _repeat(repeat)
    return out


def _segment(node: ET.Element, table: dict[str, tuple[str, int, int]]) -> Node:
    elements: list[Node] = []
    for child in node:
        if child.tag == "element":
            elements.append(_element(child, table))
        elif child.tag == "composite":
            elements.append(_composite(child, table))
    out: Node = {
        "segment": node.get("xid"),
        "name": node.findtext("name"),
        "usage": node.findtext("usage"),
        "max_use": _repeat(node.findtext("max_use")),
        "pos": int(node.findtext("pos") or 0),
    }
    syntax = [s.text for s in node.findall("syntax") if s.text]
    if syntax:
        out["syntax"] = syntax
    out["elements"] = elements
    return out


def _loop(node: ET.Element, table: dict[str, tuple[str, int, int]]) -> Node:
    children: list[Node] = []
    for child in node:
        if child.tag == "segment":
            children.append(_segment(child, table))
        elif child.tag == "loop":
            children.append(_loop(child, table))
    out: Node = {
        "loop": node.get("xid"),
        "name": node.findtext("name"),
        "usage": node.findtext("usage"),
        "repeat": _repeat(node.findtext("repeat")),
        "pos": int(node.findtext("pos") or 0),
    }
    if node.get("type") == "wrapper":
        out["wrapper"] = True  # HEADER / DETAIL / FOOTER: table areas, not TR3 loops
    out["children"] = children
    return out


def _find_loop(node: ET.Element, xid: str) -> ET.Element:
    for loop in node.iter("loop"):
        if loop.get("xid") == xid:
            return loop
    raise KeyError(xid)


def _walk(node: Node, path: tuple[str, ...] = ()) -> Any:
    """Yield (loop path, segment) pairs."""
    if "loop" in node:
        for child in node["children"]:
            yield from _walk(child, path + (node["loop"],))
    else:
        yield path, node


def _loops(node: Node) -> Any:
    if "loop" in node:
        yield node
        for child in node["children"]:
            yield from _loops(child)


def _correct(guide: str, root: Node) -> None:
    """Put the TR3 back where pyx12's map departs from it."""
    zip9_loops = {"005010X222A1": {"2010AA", "2310C"}, "005010X223A2": {"2010AA", "2310E"}}
    for path, seg in _walk(root):
        loop = path[-1]
        if seg["segment"] == "N4" and loop in zip9_loops.get(guide, set()):
            # TR3 1.10.x / N403 notes: the billing provider and service facility ZIP code must be
            # nine digits for US addresses (ZIP+4); pyx12 enforces it in one loop of one map.
            seg.setdefault("rules", []).append("zip9")
            seg["elements"][2].pop("pattern", None)
        if seg["segment"] == "ST" and guide != "005010X221A1":
            # ST03 repeats GS08 in every guide but the 835 (pyx12's 837P map leaves it open).
            st03 = seg["elements"][2]
            st03.update(usage="R", codes=[guide])
        if guide == "005010X214" and loop == "2200C" and seg["segment"] == "STC":
            # X214 2200C STC (Provider level status) is situational.
            seg["usage"] = "S"
        if guide == "005010X214" and loop == "2220D" and seg["segment"] == "STC":
            # The TR3 example sends a line STC without its date: STC02 is not required there.
            seg["elements"][1]["usage"] = "S"
        if guide == "005010X214" and loop == "2000C" and seg["segment"] == "HL":
            # A rejected billing provider has no patient level below it (TR3 scenario 4).
            seg["elements"][3]["codes"] = ["0", "1"]
    if guide == "005010X214":
        # Receiver-only and provider-only acknowledgments stop above 2000C / 2000D.
        for node in _loops(root):
            if node["loop"] in ("2000C", "2000D"):
                node["usage"] = "S"


def convert(map_path: Path) -> Node:
    table = _data_elements(map_path.parent)
    root = ET.parse(map_path).getroot()
    st_loop = _find_loop(root, "ST_LOOP")
    gs_loop = _find_loop(root, "GS_LOOP")
    gs = gs_loop.find("segment")
    assert gs is not None
    gs_elements = gs.findall("element")
    fic_codes = [c.text for c in gs_elements[0].iter("code")]
    vriic_codes = [c.text for c in gs_elements[7].iter("code")]
    body = _loop(st_loop, table)
    body["loop"] = "ST_LOOP"
    st = body["children"][0]
    guide = vriic_codes[0] if vriic_codes else ""
    _correct(guide, body)
    return {
        "guide": guide,
        "transaction": (st["elements"][0].get("codes") or [""])[0],
        "functional_group": fic_codes[0] if fic_codes else "",
        "name": root.findtext("name"),
        "body": body,
    }


def dump(guide: Node) -> str:
    """One segment per line: diffs stay readable and the file stays compact."""
    lines: list[str] = []

    def emit(node: Node, depth: int) -> None:
        pad = "  " * depth
        if "segment" in node:
            lines.append(pad + json.dumps(node, separators=(",", ":")) + ",")
            return
        head = {k: v for k, v in node.items() if k != "children"}
        lines.append(pad + json.dumps(head, separators=(",", ":"))[:-1] + ',"children":[')
        for child in node["children"]:
            emit(child, depth + 1)
        lines[-1] = lines[-1].rstrip(",")
        lines.append(pad + "]},")

    top = {k: v for k, v in guide.items() if k != "body"}
    lines.append(json.dumps(top, separators=(",", ":"))[:-1] + ',"body":')
    emit(guide["body"], 1)
    lines[-1] = lines[-1].rstrip(",")
    lines.append("}")
    return "\n".join(lines) + "\n"




def code_sets(map_dir: Path) -> dict[str, list[str]]:
    """The external code lists the guides name (codes only: states, countries, CARC/RARC...)."""
    root = ET.parse(map_dir / "codes.xml").getroot()
    return {
        cs.findtext("id") or "": sorted({c.text or "" for c in cs.iter("code")})
        for cs in root.iter("codeset")
    }


if __name__ == "__main__":
    if sys.argv[1] == "--code-sets":
        sets = code_sets(Path(sys.argv[2]))
        rows = [f"{json.dumps(k)}:{json.dumps(v, separators=(',', ':'))}" for k, v in sets.items()]
        Path(sys.argv[3]).write_text("{\n" + ",\n".join(rows) + "\n}\n", encoding="utf-8")
    else:
        Path(sys.argv[2]).write_text(dump(convert(Path(sys.argv[1]))), encoding="utf-8")
