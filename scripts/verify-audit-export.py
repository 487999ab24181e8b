#!/usr/bin/env python3
"""Verifies a Gatehouse audit export (CSV or JSON Lines) without Gatehouse.

    python3 scripts/verify-audit-export.py gatehouse-audit-20261202.jsonl
    python3 scripts/verify-audit-export.py --filtered export.csv

An export is its start line, its rows and its end line (CSV: after the
column header). The start line names the row before the first row (its
number and hash) and says whether the export is filtered; the end line
counts the rows and names the last one. Each row's hash must be the SHA-256
of its canonical form, and each row must carry the previous row's hash,
from the row the start line names on. A full export must be one unbroken
chain; with --filtered, an export whose start line says it is filtered may
leave rows out between rows (their links are not checked). Exits 1 naming
the first row that does not match. Standard library only; keep it in step
with server/src/http/audit_export.rs.
"""
import csv
import hashlib
import json
import re
import sys

FIELDS = ["seq", "at", "event", "actor_id", "actor_name", "actor_roles",
          "request_id", "pipeline", "stage", "action", "execution_id",
          "revision", "decision", "comment", "sign_off", "aws_result", "team",
          "environment", "service", "subject", "summary", "details"]
HEADER = FIELDS + ["prev_hash", "hash"]
GENESIS = "0" * 64
NO_START = ("the export's start line is missing: it was removed, or the file was "
            "not written by this version of Gatehouse (export it again)")


class Broken(Exception):
    def __init__(self, seq, problem):
        super().__init__(f"audit row {seq}: {problem}")


class Unreadable(Exception):
    pass


def field(value):
    if value is None:
        return "~;"
    return f"{len(value.encode('utf-8'))}:{value};"


def canonical(row):
    out = ["gatehouse-audit-v1;"]
    for name in FIELDS + ["prev_hash"]:
        value = row[name]
        if name == "seq":
            value = str(value)
        elif name == "actor_roles":
            value = "".join(field(role) for role in value)
        out.append(field(value))
    return "".join(out)


def csv_cell(cell):
    # NULL is written \N; a value starting with \ gets one more; a value a
    # spreadsheet would run as a formula (=, +, -, @, tab, CR, LF first), or
    # starting with ', gets a leading '.
    if cell == "\\N":
        return None
    if cell.startswith("\\") or cell.startswith("'"):
        return cell[1:]
    return cell


def number(text, signed=True):
    # A whole number as Gatehouse's verifier reads one: digits, with a sign
    # where the value may be negative; nothing else (no spaces, no "_").
    if text is None or not re.fullmatch(r"[+-]?[0-9]+" if signed else r"\+?[0-9]+", text):
        raise ValueError(f"{text!r} is not a number")
    return int(text)


def json_number(value, signed=True):
    # JSON numbers only (true and false are not numbers), or null.
    if value is None:
        return None
    if type(value) is not int or (not signed and value < 0):
        raise Unreadable(f"{value!r} is not a number")
    return value


def json_text(value):
    if value is not None and not isinstance(value, str):
        raise Unreadable(f"{value!r} is not text")
    return value


START_KEYS = {"export", "after_seq", "after_hash", "filtered"}
END_KEYS = {"export", "rows", "last_seq", "last_hash"}


def json_marker(value):
    # The export's start or end line as JSON: exactly its fields.
    keys = set(value)
    if value.get("export") == "start" and keys <= START_KEYS and "filtered" in keys:
        if type(value["filtered"]) is not bool:
            raise Unreadable("filtered is neither true nor false")
        return {"export": "start", "after_seq": json_number(value.get("after_seq")),
                "after_hash": json_text(value.get("after_hash")), "filtered": value["filtered"]}
    if value.get("export") == "end" and keys <= END_KEYS and "rows" in keys:
        rows = json_number(value["rows"], signed=False)
        if rows is None:
            raise Unreadable("rows is not a number")
        return {"export": "end", "rows": rows, "last_seq": json_number(value.get("last_seq")),
                "last_hash": json_text(value.get("last_hash"))}
    raise Unreadable("a line is neither an audit row nor the export's start or end line")


def csv_marker(record):
    # "#export=start,after_seq=30,after_hash=...,filtered=false"; an empty
    # value is none. Only the first cell starts with its one "#".
    fields = {}
    for i, cell in enumerate(record):
        if i == 0 and cell.startswith("#"):
            cell = cell[1:]
        name, sep, value = cell.partition("=")
        if not sep or name in fields:
            raise Unreadable(f"{cell!r} is not name=value")
        fields[name] = value if value != "" else None
    try:
        if fields.get("export") == "start" and len(fields) == 4:
            if fields["filtered"] not in ("true", "false"):
                raise Unreadable("filtered is neither true nor false")
            seq = fields["after_seq"]
            return {"export": "start", "after_seq": None if seq is None else number(seq),
                    "after_hash": fields["after_hash"],
                    "filtered": fields["filtered"] == "true"}
        if fields.get("export") == "end" and len(fields) == 4:
            seq = fields["last_seq"]
            return {"export": "end", "rows": number(fields["rows"], signed=False),
                    "last_seq": None if seq is None else number(seq),
                    "last_hash": fields["last_hash"]}
    except (KeyError, TypeError, ValueError) as err:
        raise Unreadable(f"a field is missing or not a number ({err})")
    raise Unreadable("it is neither the export's start nor its end")


def lines(path):
    """Yields ("marker", dict) and ("row", dict) in file order."""
    with open(path, newline="", encoding="utf-8") as f:
        first = f.readline()
        if first.startswith("{"):
            f.seek(0)
            for line_no, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError:
                    raise Unreadable(f"line {line_no} is not JSON")
                if not isinstance(value, dict):
                    raise Unreadable(f"line {line_no} is not a JSON object")
                if "export" in value:
                    yield "marker", json_marker(value)
                elif set(value) - set(HEADER):
                    raise Unreadable(f"line {line_no} has fields an audit row does not have")
                else:
                    yield "row", value
            return
        header = next(csv.reader([first]), [])
        if header != HEADER:
            raise Unreadable("the first line is neither the export's JSON start line nor its CSV header")
        for record in csv.reader(f):
            if record and record[0].startswith("#"):
                yield "marker", csv_marker(record)
                continue
            if len(record) != len(HEADER):
                raise Unreadable(f"a row has {len(record)} cells, not {len(HEADER)}")
            row = {k: csv_cell(v) for k, v in zip(HEADER, record)}
            try:
                row["seq"] = number(row["seq"])
            except ValueError as err:
                raise Unreadable(f"seq is not a number ({err})")
            row["actor_roles"] = json.loads(row["actor_roles"])
            yield "row", row


def named(count_from, count_to):
    if count_to == count_from:
        return f"row {count_from}", "is"
    return f"rows {count_from} to {count_to}", "are"


def verify(path, accept_filtered):
    """Returns (rows, gaps, starts_after, last) or raises Broken/Unreadable."""
    started = False
    gaps_allowed = False
    starts_after = None
    previous = None  # (seq, hash) of the last row checked, or the start's
    rows = gaps = 0
    end = None
    jump = None  # (expected, found)
    items = lines(path)
    for kind, value in items:
        if kind == "marker" and value["export"] == "start":
            if started:
                raise Broken(previous[0] if previous else 0,
                             "a second start line follows it: exports were joined or lines moved")
            if value["filtered"] and not accept_filtered:
                raise Unreadable("this export is filtered (its start line says so), so rows may be "
                                 "left out between its rows: check it with --filtered")
            started = True
            gaps_allowed = value["filtered"]
            if (value["after_seq"] is None) != (value["after_hash"] is None):
                raise Unreadable("the export's start line names a row without its hash, or a hash without its row")
            if value["after_seq"] is not None:
                starts_after = previous = (value["after_seq"], value["after_hash"])
            continue
        if kind == "marker":
            if not started:
                raise Unreadable(NO_START)
            if end is not None:
                raise Broken(previous[0] if rows else 0, "a second end line follows it")
            if (value["last_seq"] is None) != (value["last_hash"] is None):
                raise Unreadable("the export's end line names a row without its hash, or a hash without its row")
            last = None if value["last_seq"] is None else (value["last_seq"], value["last_hash"])
            end = (value["rows"], last)
            continue
        row = value
        seq = row["seq"]
        if not started:
            raise Broken(seq, NO_START)
        if end is not None:
            raise Broken(seq, "it comes after the export's end line (rows were added to the file)")
        if previous is None:
            raise Broken(seq, "the export's start line says it has no rows, but rows follow")
        prev_seq, prev_hash = previous
        if seq > prev_seq + 1:
            if gaps_allowed and rows > 0:
                gaps += 1
                prev_hash = row["prev_hash"]
            else:
                jump = (prev_seq + 1, seq)
                break
        if seq < prev_seq + 1:
            raise Broken(seq, f"out of order: expected row {prev_seq + 1} here")
        if hashlib.sha256(canonical(row).encode("utf-8")).hexdigest() != row["hash"]:
            raise Broken(seq, "its content does not match its hash (edited, or moved from another place)")
        if row["prev_hash"] != prev_hash:
            raise Broken(seq, f"it does not follow row {seq - 1} (the previous hash differs): "
                              "a row before it was replaced, inserted or reordered")
        previous = (seq, row["hash"])
        rows += 1
    if jump is not None:
        expected, found = jump
        rows_named, are = named(expected, found - 1)
        for kind, value in items:
            if kind == "row" and expected <= value["seq"] < found:
                raise Broken(expected, f"out of order: row {found} comes before {rows_named} in the export")
        if rows == 0:
            raise Broken(expected, f"{rows_named} {are} missing: the export's start line says it starts "
                                   f"after row {expected - 1}, but its first row is {found}")
        raise Broken(expected, f"{rows_named} {are} missing (deleted)")
    if not started:
        raise Unreadable(NO_START)
    last = previous if rows else None
    here = previous[0] if previous else 0
    if end is None:
        raise Broken(here, "the export ends here without its end line: the download was cut off, "
                           "or its last lines were removed")
    if end[0] != rows:
        raise Broken(here, f"the export's end line counts {end[0]} rows, but the export has {rows}")
    if end[1] != last:
        def say(r):
            return f"row {r[0]} (hash {r[1]})" if r else "no row"
        raise Broken(here, f"the export's end line says it ends at {say(end[1])}, but its last row is {say(last)}")
    return rows, gaps, starts_after, last


def main(argv):
    filtered = "--filtered" in argv
    paths = [a for a in argv if a != "--filtered"]
    if len(paths) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        rows, gaps, starts_after, last = verify(paths[0], filtered)
    except Broken as broken:
        print(f"audit chain broken at {str(broken)[len('audit '):]}", file=sys.stderr)
        return 1
    except (Unreadable, csv.Error, ValueError, KeyError, TypeError) as err:
        print(f"audit export not verified: {err}", file=sys.stderr)
        return 1
    if starts_after is None:
        print("audit export verified: no rows")
        return 0
    if starts_after == (0, GENESIS):
        start = "from the chain's first row"
    else:
        start = f"after row {starts_after[0]} (hash {starts_after[1]})"
    last = last or starts_after
    gaps_said = (f"; a filtered export: {gaps} places where rows were left out were not checked"
                 if gaps else "")
    print(f"audit export verified: {rows} rows {start} up to row {last[0]} (hash {last[1]}){gaps_said}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
