/**
 * `redact(config)`: a copy of a loaded configuration fit for logs and status pages, with every
 * value whose schema is marked `secret()` replaced by `[redacted]`.
 */
import { REDACTED } from './secret.js';
import { childSchemas, isSecretSchema } from './schema-walk.js';
import type { Schema } from './schema-walk.js';
import { isPlainObject } from './object-tree.js';

/** The schema of each configuration the loader returned, so `redact(config)` needs nothing else. */
const schemas = new WeakMap<object, Schema>();

/** Records which schema a loaded configuration was built with (the loader calls this). */
export function rememberSchema(config: object, schema: Schema): void {
  schemas.set(config, schema);
}

function redactValue(value: unknown, candidates: readonly Schema[]): unknown {
  if (candidates.some(isSecretSchema)) return REDACTED;
  if (Array.isArray(value)) return value.map((v, i) => redactValue(v, candidates.flatMap((s) => childSchemas(s, i, 'any'))));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      Object.defineProperty(out, k, {
        value: redactValue(v, candidates.flatMap((s) => childSchemas(s, k, 'any'))),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

/**
 * A copy of `config` with secret values replaced by `[redacted]`, for logging
 * (`log.info({ config: redact(config) }, 'configuration loaded')`). `config` is a value that
 * `loadConfig`, `parseConfig` or a `ConfigStore` returned, or any value of `definition`'s schema.
 * Throws a TypeError for a value of unknown schema: guessing which fields are secret would leak.
 */
export function redact(config: object, definition?: { readonly schema: Schema }): Record<string, unknown> {
  const schema = definition?.schema ?? schemas.get(config);
  if (schema === undefined) {
    throw new TypeError('redact: this value was not loaded by @netaccel/config; pass its definition as the second argument');
  }
  return redactValue(config, [schema]) as Record<string, unknown>;
}
