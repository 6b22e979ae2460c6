/**
 * Embedding at the edge of the database: a named vector whose schema names an embedder
 * (`{ dim: 512, metric: "cosine", embedder: "local", source: "text" }`) accepts text wherever a
 * vector goes, in `upsert` and `query`, and is filled from its `source` payload field when a
 * record leaves it out. Embedders are registered by the application when it opens the database;
 * a schema or a request only names one, so no request can make Quiver load a model. The registry
 * is the database's input hook (`open()` in src/index.ts installs it): the database knows nothing
 * of embedding.
 */
import { QuiverError, type Problem } from "../core/errors/errors.js";
import { valuesAt } from "../core/payload/path.js";
import type { CollectionSchema } from "../core/schema/schema.js";
import type { InputHook } from "../database/collection.js";
import type { Embedder } from "./embedder.js";
import { managedEmbedder, type ManagedOptions } from "./managed.js";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

function boundVectors(schema: CollectionSchema): string[] {
  return Object.keys(schema.vectors).filter((n) => schema.vectors[n].embedder !== undefined);
}

interface Job {
  embedder: string;
  text: string;
  assign: (v: Float32Array) => void;
}

/** The embedders a database was opened with, by name, each wrapped with batching, retries and a cache. */
export class EmbedderRegistry implements InputHook {
  private readonly map = new Map<string, Embedder>();

  constructor(
    embedders: Record<string, Embedder> = {},
    private readonly options: ManagedOptions = {},
  ) {
    for (const [name, e] of Object.entries(embedders)) this.set(name, e);
  }

  /** Registers (or replaces) an embedder under a name that schemas can bind to. */
  set(name: string, embedder: Embedder): this {
    this.map.set(name, managedEmbedder(embedder, this.options));
    return this;
  }

  get(name: string): Embedder | undefined {
    return this.map.get(name);
  }

  /** The database's input hook: whether an embedder of this name is registered. */
  canEmbed(name: string): boolean {
    return this.map.has(name);
  }

  names(): string[] {
    return [...this.map.keys()];
  }

  /** The embedder bound to a named vector of a schema; throws a clear error when it is missing. */
  forVector(schema: CollectionSchema, vector: string, path = `vector.${vector}`): Embedder {
    const name = Object.hasOwn(schema.vectors, vector) ? schema.vectors[vector].embedder : undefined;
    if (name === undefined) {
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        {
          path,
          message: `is text, but vector "${vector}" is not bound to an embedder; pass numbers, or create the collection with { embedder: "name" } on this vector`,
        },
      ]);
    }
    const e = this.map.get(name);
    if (!e) {
      const have = this.names();
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        {
          path,
          message: `vector "${vector}" is bound to embedder "${name}", which this database was not opened with (${have.length ? `it has ${have.join(", ")}` : "it has none"}); open(path, { embedders: { ${name}: ... } })`,
        },
      ]);
    }
    return e;
  }

  /** The database's input hook: the batch with its texts embedded, or null when it has nothing to embed. */
  prepareRecords(records: unknown, schema: CollectionSchema): Promise<unknown> | null {
    return this.needed(records, schema) ? this.records(records, schema) : null;
  }

  /** The database's input hook: the query with its text embedded, or null when its vector is not text. */
  prepareQuery<T extends { vector?: unknown }>(req: T, schema: CollectionSchema): Promise<T> | null {
    return this.queryNeeded(req) ? this.query(req, schema) : null;
  }

  /** Whether an upsert batch needs embedding: some bound vector, or some text in place of a vector. */
  needed(records: unknown, schema: CollectionSchema): boolean {
    if (boundVectors(schema).length > 0) return true;
    if (!Array.isArray(records)) return false;
    return records.some(
      (r) =>
        isObject(r) &&
        (typeof r.vector === "string" ||
          (isObject(r.vectors) && Object.values(r.vectors).some((v) => typeof v === "string"))),
    );
  }

  /**
   * Returns the records with every text in place of a vector embedded, and every bound vector that
   * a record leaves out filled from its `source` payload field (when that holds non-empty text).
   * The input is not modified; what is not embeddable is left for validation to report.
   */
  async records(input: unknown, schema: CollectionSchema, signal?: AbortSignal): Promise<unknown> {
    if (!Array.isArray(input)) return input;
    const names = Object.keys(schema.vectors);
    const problems: Problem[] = [];
    const jobs: Job[] = [];
    const out = input.map((rec: unknown, i) => {
      if (!isObject(rec)) return rec;
      const p = `records[${i}]`;
      let vectors: Record<string, unknown> | undefined;
      let copy = rec;
      const want = (name: string, text: string, path: string) => {
        if (text.trim() === "") {
          problems.push({ path, message: "is empty text; there is nothing to embed" });
          return;
        }
        try {
          this.forVector(schema, name, path);
        } catch (e) {
          problems.push(...(e as QuiverError).problems);
          return;
        }
        if (!vectors) {
          vectors = isObject(rec.vectors) ? { ...rec.vectors } : {};
          copy = { ...rec, vectors };
          delete copy.vector;
        }
        const target = vectors;
        jobs.push({ embedder: schema.vectors[name].embedder!, text, assign: (v) => (target[name] = v) });
      };
      if (typeof rec.vector === "string" && rec.vectors === undefined && names.length === 1) {
        want(names[0], rec.vector, `${p}.vector`);
      } else if (rec.vector !== undefined && rec.vectors === undefined && names.length === 1) {
        vectors = { [names[0]]: rec.vector };
        copy = { ...rec, vectors };
        delete copy.vector;
      }
      if (isObject(rec.vectors)) {
        for (const [name, v] of Object.entries(rec.vectors)) {
          if (typeof v === "string" && Object.hasOwn(schema.vectors, name)) want(name, v, `${p}.vectors.${name}`);
        }
      }
      for (const name of boundVectors(schema)) {
        const source = schema.vectors[name].source;
        const given = (vectors ?? (isObject(rec.vectors) ? rec.vectors : {}))[name];
        if (source === undefined || given !== undefined || !isObject(rec.payload)) continue;
        const texts = valuesAt(rec.payload, source.split(".")).filter((t): t is string => typeof t === "string");
        const text = texts.join("\n");
        if (text.trim() !== "") want(name, text, `${p}.payload.${source}`);
      }
      return copy;
    });
    if (problems.length > 0) throw QuiverError.fromProblems("INVALID_ARGUMENT", problems);
    await this.run(jobs, signal);
    return out;
  }

  /** Whether a query's vector is text to embed. */
  queryNeeded(req: unknown): boolean {
    if (!isObject(req)) return false;
    const v = req.vector;
    return typeof v === "string" || (isObject(v) && Object.values(v).some((x) => typeof x === "string"));
  }

  /** Returns the query with its text embedded by the vector's embedder: `vector: "text"` or `vector: { name: "text" }`. */
  async query<T extends { vector?: unknown }>(req: T, schema: CollectionSchema, signal?: AbortSignal): Promise<T> {
    const v = req.vector;
    const names = Object.keys(schema.vectors);
    let name: string;
    let text: string;
    let path: string;
    if (typeof v === "string") {
      const bound = boundVectors(schema);
      const candidates = names.length === 1 ? names : bound;
      if (candidates.length !== 1) {
        throw QuiverError.fromProblems("INVALID_ARGUMENT", [
          {
            path: "vector",
            message: `this collection has several vectors (${names.join(", ")}): pass { name: "text" } to say which one embeds the text`,
          },
        ]);
      }
      [name, text, path] = [candidates[0], v, "vector"];
    } else if (isObject(v) && Object.keys(v).length === 1 && typeof Object.values(v)[0] === "string") {
      name = Object.keys(v)[0];
      text = v[name] as string;
      path = `vector.${name}`;
      if (!Object.hasOwn(schema.vectors, name)) return req; // reported by the query's own validation
    } else {
      return req;
    }
    if (text.trim() === "")
      throw QuiverError.fromProblems("INVALID_ARGUMENT", [
        { path, message: "is empty text; there is nothing to embed" },
      ]);
    const [vec] = await this.forVector(schema, name, path).embed([text], signal);
    return { ...req, vector: { [name]: vec } };
  }

  /** Embeds texts with a registered embedder by name. */
  async embed(name: string, texts: string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const e = this.map.get(name);
    if (!e)
      throw new QuiverError(
        "NOT_FOUND",
        `no embedder named "${name}" is registered (have: ${this.names().join(", ") || "none"})`,
      );
    return e.embed(texts, signal);
  }

  private async run(jobs: Job[], signal?: AbortSignal): Promise<void> {
    const by = new Map<string, Job[]>();
    for (const j of jobs) (by.get(j.embedder) ?? by.set(j.embedder, []).get(j.embedder)!).push(j);
    for (const [name, list] of by) {
      const vectors = await this.map.get(name)!.embed(
        list.map((j) => j.text),
        signal,
      );
      list.forEach((j, i) => {
        j.assign(vectors[i]);
      });
    }
  }
}
