import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { MonkError } from '@monk/model';

/** One schema violation: the key path (segments) and what is wrong there. */
export interface SchemaViolation {
  readonly path: readonly string[];
  readonly message: string;
}

const compiled = new WeakMap<object, ValidateFunction>();

function compile(schema: object): ValidateFunction {
  const cached = compiled.get(schema);
  if (cached !== undefined) return cached;
  // The spec declares `https://json-schema.org/draft-07/schema`, which Ajv does not know by that URL; the
  // draft-07 vocabulary is Ajv's default, so the declaration is dropped rather than resolved.
  const { $schema: _declared, ...body } = schema as Record<string, unknown>;
  try {
    const validate = new Ajv({ strict: false, allErrors: false, validateSchema: false }).compile(body);
    compiled.set(schema, validate);
    return validate;
  } catch (error) {
    throw new MonkError(
      'INVALID_REQUEST',
      'the Compose JSON schema given to importCompose does not compile',
      {
        cause: error,
      },
    );
  }
}

function decodePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function describeError(error: ErrorObject): SchemaViolation {
  const path = decodePointer(error.instancePath);
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties' && typeof params['additionalProperty'] === 'string') {
    return { path: [...path, params['additionalProperty']], message: 'is not a known Compose key' };
  }
  if (error.keyword === 'enum' && Array.isArray(params['allowedValues'])) {
    return {
      path,
      message: `must be one of ${params['allowedValues'].map((v) => JSON.stringify(v)).join(', ')}`,
    };
  }
  return { path, message: error.message ?? `fails the ${error.keyword} rule` };
}

/**
 * Validates a parsed (and interpolated) Compose model against the Compose Specification JSON schema
 * (draft-07) and returns the most specific violation, or `undefined` when the model is valid. The schema
 * is compiled once per schema object.
 *
 * @throws MonkError `INVALID_REQUEST` when the schema itself does not compile.
 */
export function validateComposeSchema(schema: object, model: unknown): SchemaViolation | undefined {
  const validate = compile(schema);
  if (validate(model)) return undefined;
  // The most specific error wins: not an `oneOf`/`anyOf` summary, deepest, and not a bare type mismatch
  // (inside a `oneOf`, those mostly say that another branch was meant).
  const rank = (error: ErrorObject, violation: SchemaViolation): number => {
    const summary = error.keyword === 'oneOf' || error.keyword === 'anyOf' ? 0 : 1;
    const specific = error.keyword === 'type' ? 0 : 1;
    return summary * 10_000 + violation.path.length * 10 + specific;
  };
  let best: { violation: SchemaViolation; score: number } | undefined;
  for (const error of validate.errors ?? []) {
    const violation = describeError(error);
    const score = rank(error, violation);
    if (best === undefined || score > best.score) best = { violation, score };
  }
  return best?.violation ?? { path: [], message: 'does not match the Compose schema' };
}
