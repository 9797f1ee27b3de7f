// Makes the embedded queue deliver every message two or three times, out of order: a trigger
// on the real queue table (in the SQLite file the API and the worker share, so it fires for
// their sends too) adds one or two copies of each message and spreads the original and its
// copies over a random delay, so later messages overtake earlier ones. Counted for the report.
import { openDatabase, type SqliteDatabase } from "../../shared/adapters/local/index.ts";

export interface DuplicateDelivery {
  /** messages sent since start() */
  sent(): number;
  /** extra copies delivered on top of them */
  copies(): number;
  /** stops duplicating (copies already queued are still delivered) and closes the connection */
  stop(): void;
}

const COLUMNS = "id, queue, body, visible_at, receive_count, receipt, created_at";

/** Every message sent into `dataDir`'s queue from now on: 2 or 3 deliveries, each up to `spreadMs` late. */
export function duplicateDeliveries(dataDir: string, o: { spreadMs: number }): DuplicateDelivery {
  const db: SqliteDatabase = openDatabase(dataDir);
  const spread = Math.max(1, Math.floor(o.spreadMs));
  const late = `NEW.visible_at + abs(random() % ${spread})`;
  db.exec(`
    CREATE TABLE IF NOT EXISTS test_fault_copies (original TEXT PRIMARY KEY, copies INTEGER NOT NULL);
    DROP TRIGGER IF EXISTS test_fault_duplicate_delivery;
    CREATE TRIGGER test_fault_duplicate_delivery AFTER INSERT ON queue_messages
    WHEN NEW.id NOT LIKE 'copy%'
    BEGIN
      -- one copy for every other message, two for the rest: 2 and 3 deliveries in turn
      INSERT INTO test_fault_copies (original, copies) VALUES (NEW.id, 1 + (SELECT COUNT(*) FROM test_fault_copies) % 2);
      UPDATE queue_messages SET visible_at = ${late} WHERE seq = NEW.seq;
      INSERT INTO queue_messages (${COLUMNS}) VALUES ('copy1-' || NEW.id, NEW.queue, NEW.body, ${late}, 0, NULL, NEW.created_at);
      INSERT INTO queue_messages (${COLUMNS})
        SELECT 'copy2-' || NEW.id, NEW.queue, NEW.body, ${late}, 0, NULL, NEW.created_at FROM test_fault_copies WHERE original = NEW.id AND copies = 2;
    END;
  `);
  const count = db.prepare<[], { n: number; c: number | null }>(`SELECT COUNT(*) AS n, SUM(copies) AS c FROM test_fault_copies`);
  let last = { n: 0, c: 0 };
  const read = () => {
    if (db.open) {
      const row = count.get();
      last = { n: row?.n ?? 0, c: row?.c ?? 0 };
    }
    return last;
  };
  return {
    sent: () => read().n,
    copies: () => read().c,
    stop() {
      if (!db.open) return;
      read();
      db.exec(`DROP TRIGGER IF EXISTS test_fault_duplicate_delivery`);
      db.close();
    },
  };
}
