import { MonkError } from '@monk/model';
import type { JsonValue, SourceLocation } from '@monk/model';

/** The declared variable types Monk knows. */
export const variableTypes = ['string', 'int', 'float', 'bool', 'bigint'] as const;

function invalid(options: {
  name: string;
  type: string;
  value: JsonValue;
  location?: SourceLocation;
}): MonkError {
  return new MonkError(
    'VARIABLE_INVALID',
    `variable ${options.name} is declared ${options.type} but its value ${JSON.stringify(options.value)} is not`,
    {
      ...(options.location === undefined ? {} : { location: options.location }),
      details: { variable: options.name, type: options.type },
    },
  );
}

/** Text of a value the way Monk writes it into an environment variable or a string variable. */
export function toText(value: JsonValue): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/**
 * Converts a variable's value to its declared type: `string` takes anything scalar (`1` → `"1"`), `int`
 * and `float` take numbers and numeric text, `bool` takes booleans and `true`/`false`/`yes`/`no`/`1`/`0`.
 * Without a type the value is kept. Throws `VARIABLE_INVALID` when the value does not fit.
 */
export function coerceVariable(options: {
  name: string;
  type: string | undefined;
  value: JsonValue;
  location?: SourceLocation;
}): JsonValue {
  const { type, value } = options;
  if (type === undefined || value === null) return value;
  switch (type) {
    case 'string':
      return toText(value);
    case 'int':
    case 'float': {
      const number =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && value.trim() !== ''
            ? Number(value)
            : Number.NaN;
      if (!Number.isFinite(number) || (type === 'int' && !Number.isInteger(number)))
        throw invalid({ ...options, type });
      return number;
    }
    case 'bool': {
      if (typeof value === 'boolean') return value;
      const text = toText(value).trim().toLowerCase();
      if (['true', 'yes', 'on', '1'].includes(text)) return true;
      if (['false', 'no', 'off', '0', ''].includes(text)) return false;
      throw invalid({ ...options, type });
    }
    case 'bigint': {
      const text = toText(value).trim();
      if (!/^-?\d+$/.test(text)) throw invalid({ ...options, type });
      const number = Number(text);
      return Number.isSafeInteger(number) ? number : text;
    }
    default:
      return value;
  }
}
