import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { MonkError } from '@monk/model';

/**
 * Reads a `--variables-file`: YAML (or JSON) that is either flat (`name: value`, `ns/runnable/name: value`)
 * or grouped by runnable (`ns/runnable: { name: value }`). Returns flat `--set` style entries.
 */
export async function readVariablesFile(path: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new MonkError(
      'INVALID_REQUEST',
      `cannot read variables file ${path}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new MonkError(
      'INVALID_REQUEST',
      `variables file ${path} is not valid YAML: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (document === null || document === undefined) return {};
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new MonkError('INVALID_REQUEST', `variables file ${path} must be a mapping of names to values`);
  }
  const variables: Record<string, string> = {};
  for (const [key, value] of Object.entries(document)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [name, inner] of Object.entries(value as Record<string, unknown>)) {
        variables[`${key}/${name}`] = scalar(inner, `${key}/${name}`, path);
      }
    } else {
      variables[key] = scalar(value, key, path);
    }
  }
  return variables;
}

function scalar(value: unknown, key: string, file: string): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  throw new MonkError(
    'INVALID_REQUEST',
    `variables file ${file}: ${key} must be a string, number or boolean`,
  );
}
