#!/usr/bin/env python3
"""Checks that no merged migration was edited, removed or left unlisted.

sqlx keeps a checksum of every migration a database applied and refuses to
start Gatehouse when the file of an applied migration changed or is gone
(see migrations/README.md). So a merged migration is never edited, and this
check makes that visible before any database is: migrations/checksums.sha256
lists the SHA-256 of every migration file in sha256sum's format
("<hex>  migrations/<file>.sql"), and the check fails

- when a listed file no longer has its listed checksum, or is missing;
- when a migration file is not listed (a new migration is appended, once it
  is final, with `sha256sum migrations/<file>.sql >> migrations/checksums.sha256`);
- when a new migration's version is not after every listed one (sqlx would
  apply it out of order on databases that have the later ones).

`sha256sum -c migrations/checksums.sha256`, run from the repository's root,
checks the same checksums. Python 3 standard library only. Exits 1, listing
each problem in a sentence.
"""

import hashlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations"
LIST = MIGRATIONS / "checksums.sha256"
LINE = re.compile(r"^([0-9a-f]{64}) [ *](migrations/[^/\s]+\.sql)$")
# sqlx's own rule: <version>_<description>.sql, the version an integer.
MIGRATION = re.compile(r"^(\d+)_.+\.sql$")
APPEND = "sha256sum migrations/{name} >> migrations/checksums.sha256"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    problems = []
    listed = {}
    if not LIST.is_file():
        problems.append(
            "migrations/checksums.sha256 is missing: make it with "
            "`sha256sum migrations/*.sql > migrations/checksums.sha256` from the "
            "repository's root, from migrations as they are merged."
        )
    else:
        for number, line in enumerate(LIST.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            match = LINE.match(line)
            if not match:
                problems.append(
                    f"migrations/checksums.sha256 line {number} is not a sha256sum line "
                    f"(\"<64 hex digits>  migrations/<file>.sql\"): {line!r}."
                )
                continue
            checksum, rel = match.groups()
            if rel in listed:
                problems.append(f"migrations/checksums.sha256 lists {rel} twice (line {number}).")
                continue
            listed[rel] = checksum

    for rel, checksum in listed.items():
        path = ROOT / rel
        if not path.is_file():
            problems.append(
                f"{rel} is listed in migrations/checksums.sha256 but is gone: a merged "
                "migration is never removed, since sqlx refuses to start on a database "
                "that applied it. Restore the file."
            )
        elif sha256(path) != checksum:
            problems.append(
                f"{rel} was changed after it was merged (its SHA-256 is no longer the one "
                "in migrations/checksums.sha256): sqlx refuses to start on any database "
                "that applied the old text. Restore the file (e.g. `git checkout -- "
                f"{rel}`) and put the change in a new migration (see migrations/README.md)."
            )

    versions = [
        int(m.group(1))
        for rel in listed
        if (m := MIGRATION.match(Path(rel).name))
    ]
    last = max(versions, default=None)
    for path in sorted(MIGRATIONS.glob("*.sql")):
        rel = f"migrations/{path.name}"
        if rel in listed:
            continue
        match = MIGRATION.match(path.name)
        if not match:
            problems.append(
                f"{rel} is not named as sqlx expects (<version>_<description>.sql, the "
                "version a number such as 20261207000024): sqlx would not read it."
            )
            continue
        if last is not None and int(match.group(1)) <= last:
            problems.append(
                f"{rel} is new but its version {match.group(1)} is not after the last "
                f"merged migration's ({last}): name it with a later timestamp, so that "
                "every database applies the migrations in the same order."
            )
        problems.append(
            f"{rel} is not listed in migrations/checksums.sha256: once the migration "
            f"is final, append its checksum with `{APPEND.format(name=path.name)}` "
            "(from the repository's root) and commit both."
        )

    if problems:
        print(f"check-migrations: {len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"- {problem}", file=sys.stderr)
        return 1
    print(f"check-migrations: {len(listed)} merged migrations unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
