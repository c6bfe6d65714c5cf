"""Writing the spec's values over a run directory that createRunDir.sh made.

Both functions are pure (text in, text out) and keep everything of GEOS-Chem's own file that
the spec does not mention, because those files carry many settings the spec has no field for
(photolysis input folders, extra diagnostics, the GCHP run-script logic).

- ``merge_yaml``: geoschem_config.yml. A line-based merge for the block-style YAML GEOS-Chem
  writes (two-space indents, ``key: value``, ``[a, b]`` flow lists, ``- item`` block lists,
  ``# comments``); no YAML library, since the runner uses the standard library only.
- ``set_shell_assignments``: setCommonRunSettings.sh. Each ``VAR=value`` line (a bash array
  may span several lines with ``\\`` continuations) is rewritten; the rest of the script,
  which applies those values to GCHP.rc, CAP.rc, ExtData.rc ..., stays as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .rundir import shell_value, yaml_date, yaml_scalar

_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.\-]+):(?P<rest>.*)$")
_DATE_KEYS = {"start_date", "end_date"}


@dataclass
class _Node:
    line: int  # index of the key line
    indent: int
    end: int  # index one past the last line of the node's block
    rest: str  # text after the colon


def _split_comment(rest: str) -> tuple[str, str]:
    """``' 600   # seconds'`` -> ``('600', '   # seconds')``, ignoring # inside quotes."""
    quote = None
    for index, char in enumerate(rest):
        if char in "'\"":
            quote = None if quote == char else (quote or char)
        elif char == "#" and quote is None and (index == 0 or rest[index - 1] in " \t"):
            value = rest[:index]
            return value.strip(), rest[len(value.rstrip()):]
    return rest.strip(), ""


def _content(line: str) -> bool:
    text = line.strip()
    return bool(text) and not text.startswith("#") and text not in ("---", "...")


def _index(lines: list[str]) -> dict[tuple[str, ...], _Node]:
    """Every key of the file by its path, with the extent of its block."""
    nodes: dict[tuple[str, ...], _Node] = {}
    stack: list[tuple[int, tuple[str, ...]]] = []
    for number, line in enumerate(lines):
        match = _KEY.match(line)
        if not match or not _content(line) or line.lstrip().startswith("- "):
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = (stack[-1][1] if stack else ()) + (match["key"],)
        nodes[path] = _Node(number, indent, len(lines), match["rest"])
        stack.append((indent, path))
    # A block ends before the next content line indented no deeper than its key.
    for node in nodes.values():
        for number in range(node.line + 1, len(lines)):
            line = lines[number]
            if _content(line) and len(line) - len(line.lstrip(" ")) <= node.indent:
                node.end = number
                break
        while node.end > node.line + 1 and not _content(lines[node.end - 1]):
            node.end -= 1
    return nodes


def _flatten(values: dict, prefix: tuple[str, ...] = ()):
    for key, value in values.items():
        if isinstance(value, dict) and value:
            yield from _flatten(value, prefix + (str(key),))
        else:
            yield prefix + (str(key),), value


def _inline(key: str, value) -> str | None:
    """The value as it goes after ``key:`` on one line, or None for a block list."""
    if key in _DATE_KEYS and isinstance(value, list) and len(value) == 2:
        return yaml_date(value)
    if isinstance(value, list):
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return "[" + ", ".join(yaml_scalar(v) for v in value) + "]"
        return None
    if isinstance(value, dict):
        return "{}"
    return yaml_scalar(value)


def _block(value: list, indent: int) -> list[str]:
    return [f"{' ' * indent}- {yaml_scalar(v)}" for v in value]


def _child_indent(lines: list[str], node: _Node) -> int:
    for line in lines[node.line + 1:node.end]:
        if _content(line):
            return len(line) - len(line.lstrip(" "))
    return node.indent + 2


def _has_children(lines: list[str], node: _Node) -> bool:
    return any(_KEY.match(line) and _content(line) and not line.lstrip().startswith("- ")
               for line in lines[node.line + 1:node.end])


def _set(lines: list[str], path: tuple[str, ...], value, notes: list[str]) -> None:
    nodes = _index(lines)
    key = path[-1]
    node = nodes.get(path)
    if node is not None:
        if _has_children(lines, node) and not isinstance(value, dict):
            # e.g. the spec's "verbose: false" where GEOS-Chem 14.x has "verbose: {activate: ...}":
            # writing a scalar there would break the file, so GEOS-Chem's version stays.
            notes.append(f"kept GEOS-Chem's {'.'.join(path)} (a section there, {value!r} in the spec)")
            return
        inline = _inline(key, value)
        head = lines[node.line][:node.indent] + key + ":"
        _, comment = _split_comment(node.rest)
        if inline is None:
            indent = _child_indent(lines, node)
            lines[node.line:node.end] = [head + comment] + _block(value, indent)
        else:
            lines[node.line:node.end] = [f"{head} {inline}{comment}"]
        return
    # Not in the file: add it under the deepest section that is.
    depth = len(path) - 1
    while depth > 0 and path[:depth] not in nodes:
        depth -= 1
    parent = nodes.get(path[:depth]) if depth else None
    indent = _child_indent(lines, parent) if parent else 0
    new = [f"{' ' * indent}{name}:" for name in path[depth:-1]]
    indent += 2 * len(new)
    inline = _inline(key, value)
    new += ([f"{' ' * indent}{key}: {inline}"] if inline is not None
            else [f"{' ' * indent}{key}:"] + _block(value, indent + 2))
    at = parent.end if parent else len(lines)
    lines[at:at] = new
    notes.append(f"added {'.'.join(path)} (not in GEOS-Chem's file)")


def merge_yaml(template: str, values: dict) -> tuple[str, list[str]]:
    """``template`` (GEOS-Chem's geoschem_config.yml) with every leaf of ``values`` written
    over it; returns the text and notes on keys added or kept.

    A leaf that exists replaces the value on its line (its comment stays); a list of names
    replaces the block list under its key; a leaf that does not exist is added under its
    deepest existing section. A spec scalar where the file has a section is not written.
    """
    lines = template.splitlines()
    notes: list[str] = []
    for path, value in _flatten(values):
        _set(lines, path, value, notes)
    return "\n".join(lines) + "\n", notes


# ---------------------------------------------------------------------------------------------
# setCommonRunSettings.sh
# ---------------------------------------------------------------------------------------------

_ASSIGN = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)=")


def _assignment_end(lines: list[str], start: int) -> int:
    """Index one past the last line of the assignment starting at ``start``: a line ending in
    ``\\`` continues, and ``VAR=(`` continues until its ``)``."""
    number = start
    opened = lines[start].split("=", 1)[1].lstrip().startswith("(")
    while number < len(lines):
        text = lines[number].split("#", 1)[0].rstrip() if number > start else lines[number].rstrip()
        if text.endswith("\\") or (opened and ")" not in text):
            number += 1
            continue
        return number + 1
    return len(lines)


def set_shell_assignments(script: str, settings: dict) -> tuple[str, list[str]]:
    """``script`` with the top-level assignment of each key of ``settings`` rewritten; returns
    the text and notes. Keys the script does not assign are added after its first line (the
    shebang), so its own later logic still sees them; values are quoted for bash (lists
    become bash arrays, True/False ON/OFF). A None value (the spec's "not applicable", e.g.
    TARGET_LAT of an unstretched grid) leaves the script's own value alone."""
    lines = script.splitlines()
    notes: list[str] = []
    missing = []
    for name, value in settings.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(name)):
            raise ValueError(f"not a shell variable name: {name!r}")
        if value is None:
            continue
        starts = [i for i, line in enumerate(lines) if (m := _ASSIGN.match(line)) and m["name"] == name]
        if not starts:
            missing.append(f"{name}={shell_value(value)}")
            continue
        start = starts[0]  # the settings block comes first; later ones are the script's logic
        lines[start:_assignment_end(lines, start)] = [f"{name}={shell_value(value)}"]
    if missing:
        at = 1 if lines and lines[0].startswith("#!") else 0
        lines[at:at] = ["# Set by the GEOS-Chem Cloud Runner (not assigned in this script):"] + missing
        notes.append("added to setCommonRunSettings.sh: " + ", ".join(m.split("=", 1)[0] for m in missing))
    return "\n".join(lines) + "\n", notes
