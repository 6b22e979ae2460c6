/**
 * The validated filter AST: what `parseFilter` produces and what evaluation and index planning consume.
 * Nodes are plain data (JSON-serializable) so plans can be logged and compared in tests.
 */

/** A value a filter may compare against. Arrays and objects are never operands. */
export type Scalar = string | number | boolean | null;

/** A range bound: numbers compare numerically, strings lexicographically (so ISO-8601 dates work). */
export type Bound = number | string;

/** A payload path already split on dots, e.g. `["authors", "name"]`; no segment is empty. */
export type FieldPath = readonly string[];

/** Matches every record: the empty filter `{}`. */
export interface AllNode {
  readonly kind: "all";
}

export interface AndNode {
  readonly kind: "and";
  /** At least two children; the parser collapses single-child conjunctions. */
  readonly children: readonly FilterNode[];
}

export interface OrNode {
  readonly kind: "or";
  readonly children: readonly FilterNode[];
}

/** `$not`, `$ne` and `$nin`: true when the child is false, including when the field is missing. */
export interface NotNode {
  readonly kind: "not";
  readonly child: FilterNode;
}

/** Some value at `path` equals `value`; `null` also matches a missing field (MongoDB semantics). */
export interface EqNode {
  readonly kind: "eq";
  readonly path: FieldPath;
  readonly value: Scalar;
}

/** Some value at `path` equals one of `values` (non-empty). */
export interface InNode {
  readonly kind: "in";
  readonly path: FieldPath;
  readonly values: readonly Scalar[];
}

/**
 * Some single value at `path` satisfies every given bound. All bounds have one type (validated), and
 * a value of another type never matches. At least one bound is present.
 */
export interface RangeNode {
  readonly kind: "range";
  readonly path: FieldPath;
  readonly gt?: Bound;
  readonly gte?: Bound;
  readonly lt?: Bound;
  readonly lte?: Bound;
}

/** The path leads to anything (`value: true`, including `null` and `[]`) or to nothing (`false`). */
export interface ExistsNode {
  readonly kind: "exists";
  readonly path: FieldPath;
  readonly value: boolean;
}

export type FilterNode = AllNode | AndNode | OrNode | NotNode | EqNode | InNode | RangeNode | ExistsNode;

/** The type shared by a range's bounds; valid ranges have at least one bound. */
export function rangeType(node: RangeNode): "number" | "string" {
  const b = node.gt ?? node.gte ?? node.lt ?? node.lte;
  return typeof b === "string" ? "string" : "number";
}
