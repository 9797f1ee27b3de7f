// Every Heat stack URL the client uses, in one place. `endpoint` is the orchestration
// endpoint from the catalog, which already ends in /v1/{project_id}.
const seg = encodeURIComponent;

export const createURL = (endpoint: string): string => `${endpoint}/stacks`;

/** GET here answers 302 to the stack's {name}/{id} URL. */
export const lookupURL = (endpoint: string, nameOrId: string): string => `${endpoint}/stacks/${seg(nameOrId)}`;

/** GET, PATCH and DELETE need both name and id. */
export const stackURL = (endpoint: string, name: string, id: string): string =>
  `${endpoint}/stacks/${seg(name)}/${seg(id)}`;

export const resourcesURL = (endpoint: string, name: string, id: string, nestedDepth?: number): string =>
  `${stackURL(endpoint, name, id)}/resources` + (nestedDepth ? `?nested_depth=${Math.floor(nestedDepth)}` : "");

/** The {name, id} a stack URL (a 302 Location, a "stack" link) points at. */
export function parseStackURL(url: string): { name: string; id: string } | undefined {
  let path: string;
  try {
    path = new URL(url, "http://relative.invalid").pathname;
  } catch {
    return undefined;
  }
  const m = /\/stacks\/([^/]+)\/([^/]+)\/?$/.exec(path);
  return m ? { name: decodeURIComponent(m[1]), id: decodeURIComponent(m[2]) } : undefined;
}
