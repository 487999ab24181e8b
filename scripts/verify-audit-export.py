#!/usr/bin/env python3
"""Verifies a Gatehouse audit export (CSV or JSON Lines) without Gatehouse.

    python3 scripts/verify-audit-export.py gatehouse-audit-20261202.jsonl
    python3 scripts/verify-audit-export.py --filtered export.csv

Each row's hash must be the SHA-256 of its canonical form, and each row must
carry the previous row's hash. A full export must be one unbroken chain; with
--filtered, rows may be left out between rows (their links are not checked).
Exits 1 naming the first row that does not match. Standard library only.
"""
import csv
import hashlib
import json
import sys

FIELDS = ["seq", "at", "event", "actor_id", "actor_name", "actor_roles",
          "request_id", "pipeline", "stage", "action", "execution_id",
          "revision", "decision", "comment", "sign_off", "aws_result", "team",
          "environment", "service", "subject", "summary", "details"]


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
    # NULL is written \N; a value starting with \ gets one more.
    if cell == "\\N":
        return None
    return cell[1:] if cell.startswith("\\") else cell


def rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        first = f.readline()
        f.seek(0)
        if first.startswith("{"):
            for line in f:
                if line.strip():
                    yield json.loads(line)
        else:
            for record in csv.DictReader(f):
                row = {k: csv_cell(v) for k, v in record.items()}
                row["seq"] = int(row["seq"])
                row["actor_roles"] = json.loads(row["actor_roles"])
                yield row


def main(argv):
    filtered = "--filtered" in argv
    paths = [a for a in argv if a != "--filtered"]
    if len(paths) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    previous = None
    count = 0
    for row in rows(paths[0]):
        seq = row["seq"]
        if hashlib.sha256(canonical(row).encode("utf-8")).hexdigest() != row["hash"]:
            print(f"audit row {seq}: its content does not match its hash", file=sys.stderr)
            return 1
        if previous is not None:
            prev_seq, prev_hash = previous
            if seq != prev_seq + 1 and not filtered:
                print(f"audit row {prev_seq + 1}: missing (the export jumps to row {seq})", file=sys.stderr)
                return 1
            if seq == prev_seq + 1 and row["prev_hash"] != prev_hash:
                print(f"audit row {seq}: it does not follow row {prev_seq}", file=sys.stderr)
                return 1
        previous = (seq, row["hash"])
        count += 1
    last = f" up to row {previous[0]} (hash {previous[1]})" if previous else ""
    print(f"audit export verified: {count} rows{last}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
