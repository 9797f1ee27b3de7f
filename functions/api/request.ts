// Reading a JSON body: the content type must be JSON (or absent) and the text must parse.
import type { Context } from "hono";
import { ApiError, badRequest } from "../../shared/domain/errors.ts";

export async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header("content-type");
  if (type && !/^application\/(.+\+)?json\b/i.test(type))
    throw new ApiError(415, "Unsupported media type", `Content-Type ${type} is not supported; send application/json.`);
  const text = await c.req.text();
  if (!text.trim()) throw badRequest("The request body is empty; send a JSON object.");
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`The request body is not valid JSON: ${(e as Error).message}`);
  }
}
