/**
 * The Standard Schema interface (version 1, https://standardschema.dev), written out here so
 * that the module depends on no schema library: Zod (3.24+ and 4), Valibot (1), ArkType (2) and
 * others implement it, and `r.json(schema)`, `r.iter_json(schema)` and `pagination.schema`
 * accept any of them.
 *
 * @module
 */

/**
 * A schema implementing the Standard Schema interface: its `~standard` property validates a
 * value and, on success, gives the schema's output (with transforms and defaults applied).
 *
 * @typeParam Input The type of the values the schema accepts.
 * @typeParam Output The type of what it gives for them.
 *
 * @example A hand-written schema
 * ```ts
 * import type { StandardSchemaV1 } from "@requests/requests";
 * import { Response } from "@requests/requests";
 * import assert from "node:assert/strict";
 *
 * const Id: StandardSchemaV1<unknown, number> = {
 *   "~standard": {
 *     version: 1,
 *     vendor: "example",
 *     validate: (value) =>
 *       typeof value === "number" ? { value } : { issues: [{ message: "Expected a number" }] },
 *   },
 * };
 * const id: number = new Response(200, "OK", null, "42").json(Id);
 * assert.equal(id, 42);
 * ```
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly "~standard": {
    /** The version of the standard: 1. */
    readonly version: 1;
    /** The name of the library that made the schema. */
    readonly vendor: string;
    /** Validates a value: the output, or the issues; a promise of them when asynchronous. */
    readonly validate: (
      value: unknown,
    ) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
    /** The schema's input and output types, for inference only (never present at run time). */
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/** What a Standard Schema's `validate` gives: the output value, or the issues found. */
export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: readonly StandardSchemaIssue[] };

/** One problem a Standard Schema found in a value. */
export interface StandardSchemaIssue {
  /** What is wrong, in the schema library's words. */
  readonly message: string;
  /** Where: the keys from the root of the value to the part that is wrong. */
  readonly path?: readonly (PropertyKey | { readonly key: PropertyKey })[] | undefined;
}

/** The output type of a Standard Schema: what validating with it gives. */
export type StandardSchemaOutput<Schema extends StandardSchemaV1> = NonNullable<
  Schema["~standard"]["types"]
>["output"];
