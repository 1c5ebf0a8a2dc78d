"""Import files read safely: every cell a string as written, nothing expanded or guessed.

- YAML: no implicit typing (`no` stays "no", `0123` stays "0123"; a plain `~` or nothing is an
  empty cell), no aliases or anchors (a "billion laughs" file is refused at its first alias, before
  anything grows), duplicate keys refused with their line.
- JSON: numbers kept as written (`1e3` is "1e3", not "1000.0"), `true`/`false` and nested values
  refused, duplicate keys refused.
- CSV: a header naming a column twice is refused; cells escaped against spreadsheet formulas by
  knowledge.exporter (OWASP: a leading `'`) are read back as they were.
- Every format: at most MAX_IMPORT_BYTES per file. A problem with one row is that row's problem
  (the other rows are still read); a problem with the file as a whole is BadImportFile.

Rows are numbered by their line for CSV, by their position (from 1) for JSON and YAML.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from typing import Any, TextIO

import yaml

from bot.limits import MAX_IMPORT_BYTES
from bot.model import IsOfficialError

Row = dict[str, str]
ERROR = "__error__"  # the key of a row that could not be read, with the reason as its value


class BadImportFile(IsOfficialError):
    """The file as a whole cannot be read as rows (not a list, unknown format, bad syntax)."""


def read_capped(stream: TextIO, limit: int = MAX_IMPORT_BYTES) -> str:
    """The whole stream, or BadImportFile when it is larger than limit (read no further)."""
    text = stream.read(limit + 1)
    if len(text) > limit:
        raise BadImportFile(f"the file is larger than {limit // 2**20} MB: split it")
    return text


# --- CSV: formula escapes -----------------------------------------------------------------------

# A cell a spreadsheet would run: one starting with = + - @, a tab or a carriage return, after any
# quotes already escaping it. Escaping prefixes one more quote, so reading back is exact.
_FORMULA = re.compile("'*[=+\\-@\t\r]")


def escape_formula(cell: str) -> str:
    """The cell as written to a CSV export (OWASP CSV injection: a leading `'`)."""
    return "'" + cell if _FORMULA.match(cell) else cell


def unescape_formula(cell: str) -> str:
    """escape_formula reversed; a cell it did not escape is returned as it is."""
    return cell[1:] if cell.startswith("'") and _FORMULA.match(cell, 1) else cell


def _cell(value: str | None) -> str:
    """A CSV cell as imported: a missing one empty, an escaped formula unescaped."""
    if not value:
        return ""
    return unescape_formula(value) if value[0] == "'" else value


def csv_rows(stream: TextIO) -> Iterator[tuple[int, Row]]:
    """Rows as csv.DictReader makes them (cells past the header dropped, missing ones empty),
    built from csv.reader's lists: the dict per row is most of the cost of a large file."""
    reader = csv.reader(stream, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise BadImportFile(f"line 1: not a valid CSV header: {error}") from None
    if header is None:
        return
    names = [name.strip().lower() for name in header]
    twice = sorted({name for name in names if names.count(name) > 1 and name})
    if twice:
        raise BadImportFile(f"the CSV header names {', '.join(twice)} more than once")
    missing = {"platform", "verdict"} - set(names)
    if missing:
        raise BadImportFile(f"the CSV header lacks {', '.join(sorted(missing))}")
    width = len(names)
    line = reader.line_num + 1  # each record's: the one after the previous record's last line
    try:
        for values in reader:
            if not values:
                continue  # a blank line (the line given stays: csv.DictReader's)
            row = dict(zip(names, values, strict=False))  # a short or long record, as DictReader
            if len(values) < width:
                row.update(dict.fromkeys(names[len(values) :], ""))
            if "'" in "".join(values):  # rarely: a cell may be an escaped formula
                row = {k: _cell(v) for k, v in row.items()}
            yield line, row
            line = reader.line_num + 1
    except csv.Error as error:
        raise BadImportFile(f"line {line}: not valid CSV: {error}") from None


# --- YAML ---------------------------------------------------------------------------------------


class _StrictLoader(yaml.BaseLoader):
    """YAML's structure only: BaseLoader resolves every scalar to a string; aliases and anchors
    are refused as they are met, so nothing is ever expanded."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise BadImportFile(
                f"line {event.start_mark.line + 1}: YAML anchors and aliases (&, *) are not "
                "accepted: write each row out"
            )
        return super().compose_node(parent, index)


def yaml_rows(stream: TextIO) -> Iterator[tuple[int, Row]]:
    text = read_capped(stream)
    try:
        loader = _StrictLoader(text)  # it refuses characters YAML does not allow, at once
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.YAMLError as error:
        raise BadImportFile(f"not valid YAML: {_first_line(error)}") from None
    for number, item in enumerate(_yaml_items(root), start=1):
        yield number, _yaml_row(item)


def _yaml_items(root: yaml.Node | None) -> list[yaml.Node]:
    if isinstance(root, yaml.MappingNode):  # {accounts: [...]}
        root = next((v for k, v in root.value if k.value == "accounts"), root)
    if root is None:
        return []
    if not isinstance(root, yaml.SequenceNode):
        raise BadImportFile("the YAML file must be a list of rows")
    items: list[yaml.Node] = root.value
    return items


def _yaml_row(node: yaml.Node) -> Row:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        return {ERROR: f"a row must be a mapping, not a {_yaml_kind(node)} (line {line})"}
    row: Row = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            return {ERROR: f"line {key.start_mark.line + 1}: a column name must be text"}
        name, at = key.value, key.start_mark.line + 1
        if name in row:
            return {ERROR: f"line {at}: {name!r} is given twice in this row"}
        if not isinstance(value, yaml.ScalarNode):
            return {ERROR: f"line {at}: {name!r} holds a {_yaml_kind(value)}: give text"}
        plain_empty = value.style is None and value.value in ("", "~")
        row[name] = "" if plain_empty else value.value
    return row


def _yaml_kind(node: yaml.Node) -> str:
    return "list" if isinstance(node, yaml.SequenceNode) else "mapping" if isinstance(
        node, yaml.MappingNode
    ) else "scalar"


# --- JSON ---------------------------------------------------------------------------------------


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as its pairs, in order, duplicates kept (to be refused)."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value here")


def json_rows(stream: TextIO) -> Iterator[tuple[int, Row]]:
    text = read_capped(stream)
    try:
        items = json.loads(
            text,
            object_pairs_hook=_Pairs,
            parse_int=str,
            parse_float=str,
            parse_constant=_refuse_constant,
        )
    except (ValueError, RecursionError) as error:
        raise BadImportFile(f"not valid JSON: {_first_line(error)}") from None
    if isinstance(items, _Pairs):  # {"accounts": [...]}
        items = next((v for k, v in items if k == "accounts"), items)
    if not isinstance(items, list) or isinstance(items, _Pairs):
        raise BadImportFile("the JSON file must be a list of rows")
    for number, item in enumerate(items, start=1):
        yield number, _json_row(item)


def _json_row(item: Any) -> Row:
    if not isinstance(item, _Pairs):
        return {ERROR: f"a row must be a mapping (an object), not {_json_kind(item)}"}
    row: Row = {}
    for name, value in item:
        if name in row:
            return {ERROR: f"{name!r} is given twice in this row"}
        if value is None:
            row[name] = ""
        elif isinstance(value, str):
            row[name] = value
        else:
            return {ERROR: f"{name!r} holds {_json_kind(value)}: give text"}
    return row


def _json_kind(value: Any) -> str:
    if isinstance(value, _Pairs):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"{str(value).lower()} (write it in quotes if it is text)"
    return "a number" if isinstance(value, int | float) else type(value).__name__


def _first_line(error: BaseException) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


READERS = {"csv": csv_rows, "json": json_rows, "yaml": yaml_rows}
