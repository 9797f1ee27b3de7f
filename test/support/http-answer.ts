// What the tests' HTTP clients make of a response: read whole, with its JSON when it is JSON.
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** Reads `res` whole; `json` is the parsed body, or `notJson(text)` when it does not parse. */
export async function readAnswer(res: Response, notJson: (text: string) => unknown = () => undefined): Promise<Answer> {
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = notJson(text);
  }
  return { status: res.status, headers: res.headers, text, json };
}
