// The dev cloud's Heat runs on SQLite, which hands the id of a deleted last row out again;
// Heat's engine deletes rows by ids it remembered, and with a reused id it deleted a newer
// row (a stack failed with "ResourcePropertiesData with id N not found"). The script the dev
// cloud runs before starting Heat makes ids never come back, as MySQL's do. Tables as Heat's
// db_sync creates them (copied from the dev cloud's heat.sqlite).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";

const SCRIPT = join(import.meta.dirname, "../../scripts/devcloud/sqlite-ids-never-reused.py");
const HEAT_TABLES = [
  "CREATE TABLE resource_properties_data (\n\tid INTEGER NOT NULL, \n\tdata TEXT, \n\tencrypted BOOLEAN, \n\tcreated_at DATETIME, \n\tupdated_at DATETIME, \n\tPRIMARY KEY (id)\n)",
  "CREATE TABLE resource (\n\tid INTEGER NOT NULL, \n\tuuid VARCHAR(36), \n\tname VARCHAR(255), \n\trsrc_prop_data_id INTEGER, \n\tPRIMARY KEY (id), \n\tCONSTRAINT rsrc_rsrc_prop_data_ref FOREIGN KEY(rsrc_prop_data_id) REFERENCES resource_properties_data (id), \n\tUNIQUE (uuid)\n)",
  "CREATE INDEX ix_resource_name ON resource (name)",
  "CREATE TABLE stack (\n\tid VARCHAR(36) NOT NULL, \n\tname VARCHAR(255), \n\tPRIMARY KEY (id)\n)",
];

function heatDb(): { path: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "bf-sqlite-ids-"));
  const path = join(dir, "heat.sqlite");
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  for (const sql of HEAT_TABLES) db.exec(sql);
  for (const n of [1, 2, 3]) db.prepare("INSERT INTO resource_properties_data (data) VALUES (?)").run(`rpd ${n}`);
  db.prepare("INSERT INTO resource (uuid, name, rsrc_prop_data_id) VALUES ('r-1', 'kube_masters', 2)").run();
  db.close();
  return { path, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Deletes the last row and inserts one: the id the new row gets. */
function idAfterDeletingLast(path: string): number {
  const db = new Database(path);
  try {
    const last = (db.prepare("SELECT max(id) AS id FROM resource_properties_data").get() as { id: number }).id;
    db.prepare("DELETE FROM resource_properties_data WHERE id = ?").run(last);
    return Number(db.prepare("INSERT INTO resource_properties_data (data) VALUES ('new')").run().lastInsertRowid);
  } finally {
    db.close();
  }
}

describe("the dev cloud's Heat on SQLite never reuses an id (scripts/devcloud/sqlite-ids-never-reused.py)", () => {
  it("as SQLite leaves Heat's tables, a deleted last row's id is handed out again", () => {
    const { path, done } = heatDb();
    try {
      assert.equal(idAfterDeletingLast(path), 3);
    } finally {
      done();
    }
  });

  it("after the script, it is not; rows, the unique key and the indexes are kept, and running it again changes nothing", () => {
    const { path, done } = heatDb();
    try {
      execFileSync("python3", [SCRIPT, path]);
      assert.equal(idAfterDeletingLast(path), 4);
      const db = new Database(path);
      try {
        assert.deepEqual(db.prepare("SELECT id, data FROM resource_properties_data ORDER BY id").all(), [{ id: 1, data: "rpd 1" }, { id: 2, data: "rpd 2" }, { id: 4, data: "new" }]);
        assert.deepEqual(db.prepare("SELECT uuid, rsrc_prop_data_id FROM resource").all(), [{ uuid: "r-1", rsrc_prop_data_id: 2 }]);
        assert.throws(() => db.prepare("INSERT INTO resource (uuid) VALUES ('r-1')").run(), /UNIQUE/);
        const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'resource' AND sql IS NOT NULL").all();
        assert.deepEqual(indexes, [{ name: "ix_resource_name" }]);
        const stack = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'stack'").get() as { sql: string };
        assert.doesNotMatch(stack.sql, /AUTOINCREMENT/, "a table keyed by a uuid is left alone");
        assert.deepEqual(db.pragma("integrity_check"), [{ integrity_check: "ok" }]);
      } finally {
        db.close();
      }
      assert.equal(execFileSync("python3", [SCRIPT, path], { encoding: "utf8" }), "", "nothing left to rebuild");
      assert.equal(idAfterDeletingLast(path), 5);
    } finally {
      done();
    }
  });
});
