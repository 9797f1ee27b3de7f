// A small declarative field checker in the spirit of Magnum's WSME types: each request
// body is checked against a table of fields, and the first problem becomes a 400 that
// names the field, the value and the rule (Magnum's wording).
import { ApiError, badRequest, invalidField } from "./errors.ts";

const missingField = (field: string): ApiError =>
  new ApiError(400, `Invalid input for field/attribute ${field}`, `Invalid input for field/attribute ${field}. Mandatory field missing.`);

export type FieldSpec =
  | { type: "string"; min?: number; max?: number; pattern?: RegExp; patternText?: string; enum?: readonly string[] }
  | { type: "integer"; min?: number; max?: number; /** why there is a max, said after it */ maxReason?: string }
  | { type: "boolean" }
  | { type: "labels" }
  | { type: "ipv4" };

export interface FieldRule {
  spec: FieldSpec;
  required?: boolean;
  /** served in responses but not accepted from clients (but for null, when also nullable) */
  readonly?: boolean;
  /** null is accepted and means "unset" */
  nullable?: boolean;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function checkValue(field: string, value: unknown, spec: FieldSpec): unknown {
  switch (spec.type) {
    case "string": {
      if (typeof value !== "string") throw invalidField(field, value, "Value should be a string");
      if (spec.min !== undefined && value.length < spec.min)
        throw invalidField(field, value, `Value should have a minimum character requirement of ${spec.min}`);
      if (spec.max !== undefined && value.length > spec.max)
        throw invalidField(field, value, `Value should have a maximum character requirement of ${spec.max}`);
      if (spec.pattern && !spec.pattern.test(value))
        throw invalidField(field, value, spec.patternText ?? `Value should match the pattern ${spec.pattern.source}`);
      if (spec.enum && !spec.enum.includes(value))
        throw invalidField(field, value, `Value should be one of: ${spec.enum.join(", ")}`);
      return value;
    }
    case "integer": {
      if (typeof value !== "number" || !Number.isInteger(value))
        throw invalidField(field, value, "Value should be an integer");
      if (spec.min !== undefined && value < spec.min)
        throw invalidField(field, value, `Value should be greater or equal to ${spec.min}`);
      if (spec.max !== undefined && value > spec.max)
        throw invalidField(field, value, `Value should be less or equal to ${spec.max}${spec.maxReason ? ` (${spec.maxReason})` : ""}`);
      return value;
    }
    case "boolean":
      if (typeof value !== "boolean") throw invalidField(field, value, "Value should be a boolean (true or false)");
      return value;
    case "ipv4":
      if (typeof value !== "string" || !IPV4.test(value))
        throw invalidField(field, value, "Value should be an IPv4 address such as 8.8.8.8");
      return value;
    case "labels": {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        throw invalidField(field, value, "Value should be an object of string keys to string values");
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "string")
          throw invalidField(`${field}.${k}`, v, "Label values should be strings");
        if (k.length === 0 || k.length > 255) throw invalidField(field, k, "Label keys should have 1 to 255 characters");
      }
      return { ...(value as Record<string, string>) };
    }
  }
}

/**
 * Checks a JSON body against `rules`: an object, no unknown or read-only attributes, each
 * value of the right type and range, required ones present. Returns the accepted fields.
 */
export function checkBody(
  resource: string,
  body: unknown,
  rules: Record<string, FieldRule>,
): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw badRequest(`The request body must be a JSON object describing the ${resource}.`);
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(body)) {
    const rule = Object.hasOwn(rules, field) ? rules[field] : undefined; // not "constructor" & co. of Object.prototype
    if (!rule) throw badRequest(`Unknown attribute for argument ${resource}: ${field}`);
    if (rule.readonly && !(value === null && rule.nullable)) throw badRequest(`Attribute ${field} of ${resource} is read-only and cannot be set.`);
    if (value === null) {
      if (rule.required) throw missingField(field);
      if (!rule.nullable) throw invalidField(field, value, "Value should not be null");
      out[field] = null;
      continue;
    }
    out[field] = checkValue(field, value, rule.spec);
  }
  for (const [field, rule] of Object.entries(rules)) {
    if (rule.required && !(field in out)) throw missingField(field);
  }
  return out;
}
