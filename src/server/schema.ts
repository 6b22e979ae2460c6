/**
 * A small schema language for request bodies: one definition both validates a parsed JSON body
 * (every problem with its path, in the embedded API's terms) and becomes the OpenAPI JSON Schema.
 * Fields whose deep checks belong to the database (`json()`) are typed here and passed through.
 */
import type { ErrorCode, Problem } from "../core/errors/errors.js";

export type Schema =
  | {
      type: "string";
      description?: string;
      minLength?: number;
      maxLength?: number;
      pattern?: RegExp;
      enum?: readonly string[];
    }
  | { type: "integer"; description?: string; minimum?: number; maximum?: number }
  | { type: "number"; description?: string }
  | { type: "boolean"; description?: string }
  | { type: "array"; description?: string; items: Schema; maxItems?: number }
  | {
      type: "object";
      description?: string;
      properties: Record<string, Schema>;
      required?: readonly string[];
      additional?: Schema;
      unknownMessage?: string;
    }
  | { type: "anyOf"; description?: string; options: Schema[]; message: string }
  /** Any JSON value; its deep validation is the database's (documented with `doc`). */
  | { type: "json"; description?: string; doc?: Record<string, unknown> };

export const s = {
  string: (o: Omit<Extract<Schema, { type: "string" }>, "type"> = {}): Schema => ({ type: "string", ...o }),
  integer: (o: Omit<Extract<Schema, { type: "integer" }>, "type"> = {}): Schema => ({ type: "integer", ...o }),
  number: (o: Omit<Extract<Schema, { type: "number" }>, "type"> = {}): Schema => ({ type: "number", ...o }),
  boolean: (description?: string): Schema => ({ type: "boolean", description }),
  array: (items: Schema, o: Omit<Extract<Schema, { type: "array" }>, "type" | "items"> = {}): Schema => ({
    type: "array",
    items,
    ...o,
  }),
  object: (
    properties: Record<string, Schema>,
    o: Omit<Extract<Schema, { type: "object" }>, "type" | "properties"> = {},
  ): Schema => ({ type: "object", properties, ...o }),
  anyOf: (options: Schema[], message: string, description?: string): Schema => ({
    type: "anyOf",
    options,
    message,
    description,
  }),
  json: (description: string, doc?: Record<string, unknown>): Schema => ({ type: "json", description, doc }),
};

export interface ValidationResult {
  /** INVALID_ARGUMENT; PAYLOAD_TOO_LARGE when only a batch size was exceeded; LIMIT_EXCEEDED when only maximums were. */
  code: ErrorCode;
  problems: Problem[];
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v)?.slice(0, 40)}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const MAX_PROBLEMS = 100;

/** Problems that are limits exceeded rather than malformed input. */
interface Excess {
  /** An array longer than its maxItems (a batch). */
  hit: boolean;
  /** Integers above their maximum. */
  overMaximum: number;
}

function check(schema: Schema, v: unknown, path: string, problems: Problem[], tooLarge: Excess): void {
  if (problems.length >= MAX_PROBLEMS) return;
  const at = (message: string) => problems.push({ path, message });
  switch (schema.type) {
    case "json":
      return;
    case "string":
      if (typeof v !== "string") return void at(`must be a string, got ${describe(v)}`);
      if (schema.minLength !== undefined && v.length < schema.minLength)
        return void at(`must have at least ${schema.minLength} characters`);
      if (schema.maxLength !== undefined && v.length > schema.maxLength)
        return void at(`must have at most ${schema.maxLength} characters`);
      if (schema.pattern && !schema.pattern.test(v)) return void at(`must match ${schema.pattern.source}`);
      if (schema.enum && !schema.enum.includes(v))
        return void at(`must be one of ${schema.enum.join(", ")}, got ${describe(v)}`);
      return;
    case "integer":
      if (typeof v !== "number" || !Number.isInteger(v)) return void at(`must be an integer, got ${describe(v)}`);
      if (
        (schema.minimum !== undefined && v < schema.minimum) ||
        (schema.maximum !== undefined && v > schema.maximum)
      ) {
        // Every maximum in a body is a documented limit: asking past it is LIMIT_EXCEEDED.
        if (schema.maximum !== undefined && v > schema.maximum) tooLarge.overMaximum++;
        return void at(`must be an integer from ${schema.minimum ?? "-inf"} to ${schema.maximum ?? "inf"}, got ${v}`);
      }
      return;
    case "number":
      if (typeof v !== "number" || !Number.isFinite(v)) at(`must be a finite number, got ${describe(v)}`);
      return;
    case "boolean":
      if (typeof v !== "boolean") at(`must be true or false, got ${describe(v)}`);
      return;
    case "array":
      if (!Array.isArray(v)) return void at(`must be an array, got ${describe(v)}`);
      if (schema.maxItems !== undefined && v.length > schema.maxItems) {
        tooLarge.hit = true;
        return void at(`at most ${schema.maxItems} items per call, got ${v.length}`);
      }
      for (let i = 0; i < v.length && problems.length < MAX_PROBLEMS; i++) {
        const item = v[i];
        // A valid number needs no path: vectors of hundreds of numbers skip building one string per element.
        if (schema.items.type === "number" && typeof item === "number" && Number.isFinite(item)) continue;
        check(schema.items, item, `${path}[${i}]`, problems, tooLarge);
      }
      return;
    case "object": {
      if (!isObject(v)) return void at(`must be an object, got ${describe(v)}`);
      for (const key of schema.required ?? [])
        if (v[key] === undefined) problems.push({ path: join(path, key), message: "is required" });
      for (const [key, value] of Object.entries(v)) {
        const p = join(path, key);
        const field = Object.hasOwn(schema.properties, key) ? schema.properties[key] : schema.additional;
        if (field) check(field, value, p, problems, tooLarge);
        else
          problems.push({
            path: p,
            message: schema.unknownMessage ?? `unknown field (expected ${Object.keys(schema.properties).join(", ")})`,
          });
      }
      return;
    }
    case "anyOf": {
      for (const option of schema.options) {
        const trial: Problem[] = [];
        check(option, v, path, trial, { hit: false, overMaximum: 0 });
        if (trial.length === 0) return;
      }
      return void at(schema.message);
    }
  }
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** Validates `value`; null when it conforms. Paths are relative to the body (`records[3].id`). */
export function validate(schema: Schema, value: unknown, path = ""): ValidationResult | null {
  const problems: Problem[] = [];
  const tooLarge: Excess = { hit: false, overMaximum: 0 };
  check(schema, value, path, problems, tooLarge);
  if (problems.length === 0) return null;
  if (tooLarge.hit && problems.length === 1) return { code: "PAYLOAD_TOO_LARGE", problems };
  return { code: tooLarge.overMaximum === problems.length ? "LIMIT_EXCEEDED" : "INVALID_ARGUMENT", problems };
}

/** The JSON Schema (OpenAPI 3.1 dialect) of a schema. */
export function toJsonSchema(schema: Schema): Record<string, unknown> {
  const d = schema.description ? { description: schema.description } : {};
  switch (schema.type) {
    case "json":
      return { ...(schema.doc ?? {}), ...d };
    case "string":
      return {
        type: "string",
        ...d,
        ...(schema.minLength !== undefined ? { minLength: schema.minLength } : {}),
        ...(schema.maxLength !== undefined ? { maxLength: schema.maxLength } : {}),
        ...(schema.pattern ? { pattern: schema.pattern.source } : {}),
        ...(schema.enum ? { enum: [...schema.enum] } : {}),
      };
    case "integer":
      return {
        type: "integer",
        ...d,
        ...(schema.minimum !== undefined ? { minimum: schema.minimum } : {}),
        ...(schema.maximum !== undefined ? { maximum: schema.maximum } : {}),
      };
    case "number":
    case "boolean":
      return { type: schema.type, ...d };
    case "array":
      return {
        type: "array",
        ...d,
        items: toJsonSchema(schema.items),
        ...(schema.maxItems !== undefined ? { maxItems: schema.maxItems } : {}),
      };
    case "object":
      return {
        type: "object",
        ...d,
        properties: Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, toJsonSchema(v)])),
        ...(schema.required?.length ? { required: [...schema.required] } : {}),
        additionalProperties: schema.additional ? toJsonSchema(schema.additional) : false,
      };
    case "anyOf":
      return { ...d, anyOf: schema.options.map(toJsonSchema) };
  }
}
