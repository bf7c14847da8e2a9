import { MonkError } from './errors.ts';

/**
 * A template path names one definition: `namespace/name`, optionally deeper (`ns/group/member`).
 * Paths are case-sensitive, and segments hold letters, digits, `-`, `_` and `.`.
 */
export type TemplatePath = string;

const segment = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Splits and validates `ns/name`; a leading `/` is accepted and dropped. Throws `INVALID_REQUEST`. */
export function parseTemplatePath(input: string): { readonly namespace: string; readonly name: string } {
  const trimmed = input.startsWith('/') ? input.slice(1) : input;
  const parts = trimmed.split('/');
  if (parts.length < 2 || parts.some((part) => !segment.test(part))) {
    throw new MonkError('INVALID_REQUEST', `"${input}" is not a template path; expected namespace/name`);
  }
  const [namespace, ...rest] = parts as [string, ...string[]];
  return { namespace, name: rest.join('/') };
}

/** Normalises a path (drops a leading `/`) after validating it. */
export function normalizeTemplatePath(input: string): TemplatePath {
  const { namespace, name } = parseTemplatePath(input);
  return `${namespace}/${name}`;
}

/**
 * Turns any string into a DNS label usable as a container name or hostname: lower-case, `[a-z0-9-]`,
 * at most 63 characters.
 */
export function toDnsLabel(input: string): string {
  const label = input
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  return (label.length === 0 ? 'x' : label).slice(0, 63).replace(/-$/, '');
}
