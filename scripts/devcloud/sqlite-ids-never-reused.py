#!/usr/bin/env python3
"""Makes a SQLite database's integer ids never come back, as MySQL's AUTO_INCREMENT does.

SQLite gives a new row max(id) + 1, so the id of a deleted last row is handed out again.
Heat's convergence engine deletes resource_properties_data rows by ids it remembered (a
resource's old attribute data), and SQLite does not enforce Heat's foreign keys: a stale
delete then removed a newer row that had been given the reused id, and a stack failed with
"ResourcePropertiesData with id N not found" (the fault-injection test, under concurrent
creates and deletes). Production Heat runs on MySQL, whose ids are not reused.

Rebuilds each table whose primary key is `id INTEGER` with AUTOINCREMENT, keeping its rows and
indexes. Idempotent. Run it while nothing has the database open.
Usage: sqlite-ids-never-reused.py DATABASE
"""
import re
import sqlite3
import sys

KEY_COLUMN = re.compile(r"\(\s*id INTEGER NOT NULL,")
KEY_CLAUSE = re.compile(r",\s*PRIMARY KEY \(id\)")


def main(path: str) -> int:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA foreign_keys=OFF")
    db.execute("PRAGMA legacy_alter_table=ON")
    rebuilt = []
    tables = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").fetchall()
    for name, sql in tables:
        if "AUTOINCREMENT" in sql.upper() or not KEY_COLUMN.search(sql) or not KEY_CLAUSE.search(sql):
            continue
        new = KEY_CLAUSE.sub("", KEY_COLUMN.sub("(id INTEGER PRIMARY KEY AUTOINCREMENT,", sql, count=1), count=1)
        new = re.sub(r'^CREATE TABLE "?%s"?' % re.escape(name), 'CREATE TABLE "_rebuilt_%s"' % name, new, count=1)
        indexes = [s for (s,) in db.execute("SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = ? AND sql IS NOT NULL", (name,))]
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(new)
            db.execute('INSERT INTO "_rebuilt_%s" SELECT * FROM "%s"' % (name, name))
            db.execute('DROP TABLE "%s"' % name)
            db.execute('ALTER TABLE "_rebuilt_%s" RENAME TO "%s"' % (name, name))
            for s in indexes:
                db.execute(s)
            db.execute("COMMIT")
        except Exception:
            db.execute("ROLLBACK")
            raise
        rebuilt.append(name)
    problems = db.execute("PRAGMA integrity_check").fetchall()
    if problems != [("ok",)]:
        print(f"{path}: integrity check failed: {problems[:5]}", file=sys.stderr)
        return 1
    if rebuilt:
        print(f"{path}: ids never reused in {', '.join(rebuilt)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
