/**
 * Marks schemas whose values are secrets (BGP passwords, TLS keys, tokens). `redact()` replaces
 * their values, and validation messages never print them (`got [redacted]`).
 */
import * as z from 'zod';

const secrets = z.registry<Record<string, never>>();

/** The text that stands in for a secret value in redacted output and in messages. */
export const REDACTED = '[redacted]';

/**
 * Returns a copy of `schema` marked as secret. Wrap the innermost schema or any wrapper:
 * `secret(z.string().min(8)).optional()` and `secret(z.string().optional())` both work. An object
 * or list marked secret hides everything inside it.
 */
export function secret<T extends z.ZodType>(schema: T): T {
  const copy = schema.clone() as T;
  secrets.add(copy, {});
  return copy;
}

/** True when this very schema instance was made by `secret()`. */
export function isMarkedSecret(schema: z.core.$ZodType): boolean {
  return secrets.has(schema);
}
