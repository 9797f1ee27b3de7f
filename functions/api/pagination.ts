// Magnum's list paging (magnum/api/controllers/v1/collection.py, api/utils.py): `limit`
// (positive, capped at 1000), `marker` (the uuid of the last item seen), `sort_key`
// (default: creation order, Magnum's `id`), `sort_dir` (asc|desc), and a `next` link only
// when the page is full.
import { badRequest, notFound } from "../../shared/domain/errors.ts";

export const MAX_LIMIT = 1000;

export interface PageQuery {
  limit?: string;
  marker?: string;
  sort_key?: string;
  sort_dir?: string;
}

type Item = { uuid: string; created_at: string };

/**
 * One page of `items` (all the caller may see), sorted and cut as Magnum does, with the
 * `next` URL for the page after it (undefined when this page is not full).
 */
export function paginate<T extends Item>(
  items: T[],
  q: PageQuery,
  o: { noun: string; nextUrl: string; /** API name → stored field (cluster_template_id → baymodel_id) */ keys?: Record<string, string> },
): { page: T[]; next?: string } {
  let limit = MAX_LIMIT;
  if (q.limit !== undefined) {
    const n = Number(q.limit);
    if (!/^-?\d+$/.test(q.limit)) throw badRequest(`Invalid limit ${JSON.stringify(q.limit)}: expected a positive integer.`);
    if (n <= 0) throw badRequest("Limit must be positive");
    limit = Math.min(n, MAX_LIMIT);
  }
  const dir = q.sort_dir ?? "asc";
  if (dir !== "asc" && dir !== "desc") throw badRequest(`Invalid sort direction: ${dir}. Acceptable values are 'asc' or 'desc'`);
  const key = q.sort_key && q.sort_key !== "id" ? (o.keys && Object.hasOwn(o.keys, q.sort_key) ? o.keys[q.sort_key] : q.sort_key) : "created_at";
  if (items.length && !Object.hasOwn(items[0], key) && key !== "created_at") // own fields only, not Object.prototype's
    throw badRequest(`The sort_key value "${q.sort_key}" is an invalid field for sorting`);
  const value = (x: T) => (x as Record<string, unknown>)[key];
  const sorted = [...items].sort((a, b) => {
    const c = compare(value(a), value(b)) || compare(a.created_at, b.created_at) || compare(a.uuid, b.uuid);
    return dir === "asc" ? c : -c;
  });
  let start = 0;
  if (q.marker !== undefined) {
    const at = sorted.findIndex((x) => x.uuid === q.marker);
    if (at < 0) throw notFound(`${o.noun} ${q.marker} could not be found.`);
    start = at + 1;
  }
  const page = sorted.slice(start, start + limit);
  if (page.length < limit) return { page };
  // Magnum's order of the query: limit, sort_key, sort_dir, marker
  const params = new URLSearchParams({ limit: String(limit), sort_key: q.sort_key ?? "id", sort_dir: dir, marker: page[page.length - 1].uuid });
  return { page, next: `${o.nextUrl}?${params}` };
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a) < String(b) ? -1 : 1;
}

export const pageQuery = (q: (k: string) => string | undefined): PageQuery => ({
  limit: q("limit"),
  marker: q("marker"),
  sort_key: q("sort_key"),
  sort_dir: q("sort_dir"),
});
