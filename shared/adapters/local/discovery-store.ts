// DiscoveryStore on the embedded SQLite file: a row per directory holding its current index,
// a row per member. A registration is one IMMEDIATE transaction (check, count, bump the
// index, insert), so two processes sharing the file never hand out the same index.
import { DiscoveryDirectoryExists, type AddMemberResult, type DiscoveryDirectory, type DiscoveryMember, type DiscoverySnapshot, type DiscoveryStore } from "../../ports/discovery-store.ts";
import { durable, type SqliteDatabase } from "./sqlite.ts";

interface DirRow {
  token: string;
  size: number;
  idx: number;
  created_at: string;
}
interface MemberRow {
  id: string;
  value: string;
  created_index: number;
}

function prepareStatements(db: SqliteDatabase) {
  const p = <R = unknown>(source: string) => db.prepare<unknown[], R>(source);
  return {
    createDir: p(`INSERT INTO discovery_dirs (token, size, idx, created_at) VALUES (?, ?, 1, ?) ON CONFLICT (token) DO NOTHING`),
    getDir: p<DirRow>(`SELECT token, size, idx, created_at FROM discovery_dirs WHERE token = ?`),
    getMember: p<MemberRow>(`SELECT id, value, created_index FROM discovery_members WHERE token = ? AND id = ?`),
    countMembers: p<{ n: number }>(`SELECT COUNT(*) AS n FROM discovery_members WHERE token = ?`),
    listMembers: p<MemberRow>(
      `SELECT id, value, created_index FROM discovery_members WHERE token = ? ORDER BY created_index`,
    ),
    bumpIndex: p(`UPDATE discovery_dirs SET idx = ? WHERE token = ?`),
    insertMember: p(`INSERT INTO discovery_members (token, id, value, created_index) VALUES (?, ?, ?, ?)`),
  };
}

const toDirectory = (r: DirRow): DiscoveryDirectory => ({ token: r.token, size: r.size, index: r.idx, createdAt: r.created_at });
const toMember = (r: MemberRow): DiscoveryMember => ({ id: r.id, value: r.value, createdIndex: r.created_index });

export class SqliteDiscoveryStore implements DiscoveryStore {
  private readonly sql: ReturnType<typeof prepareStatements>;
  private readonly add: (token: string, id: string, value: string, maxMembers: number) => AddMemberResult;
  private readonly snapshot: (token: string) => DiscoverySnapshot | undefined;

  constructor(private readonly db: SqliteDatabase) {
    const sql = (this.sql = prepareStatements(db));
    const add = db.transaction((token: string, id: string, value: string, maxMembers: number): AddMemberResult => {
      const dir = sql.getDir.get(token);
      if (!dir) return { outcome: "missing" };
      const existing = sql.getMember.get(token, id);
      if (existing) return { outcome: "exists", member: toMember(existing), index: dir.idx };
      if (sql.countMembers.get(token)!.n >= maxMembers) return { outcome: "full", index: dir.idx };
      const index = dir.idx + 1;
      sql.bumpIndex.run(index, token);
      sql.insertMember.run(token, id, value, index);
      return { outcome: "created", member: { id, value, createdIndex: index }, index };
    });
    // IMMEDIATE: take the write lock before reading the index another process may bump.
    this.add = (...args) => add.immediate(...args);
    // A read transaction: the members listed are exactly those up to the index read.
    this.snapshot = db.transaction((token: string): DiscoverySnapshot | undefined => {
      const dir = sql.getDir.get(token);
      if (!dir) return undefined;
      return { directory: toDirectory(dir), members: sql.listMembers.all(token).map(toMember) };
    });
  }

  async createDirectory(token: string, size: number, createdAt: Date): Promise<DiscoveryDirectory> {
    const at = createdAt.toISOString();
    await durable(this.db, () => {
      if (this.sql.createDir.run(token, size, at).changes === 0) throw new DiscoveryDirectoryExists();
    });
    return { token, size, index: 1, createdAt: at };
  }

  async getDirectory(token: string): Promise<DiscoveryDirectory | undefined> {
    const row = this.sql.getDir.get(token);
    return row ? toDirectory(row) : undefined;
  }

  async addMember(token: string, id: string, value: string, maxMembers: number): Promise<AddMemberResult> {
    return durable(this.db, () => this.add(token, id, value, maxMembers));
  }

  async listMembers(token: string): Promise<DiscoverySnapshot | undefined> {
    return this.snapshot(token);
  }
}
