import { MonkError } from '@monk/model';

const segment = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Normalises a namespace as written (`/lbs` → `lbs`); throws `TEMPLATE_INVALID` for an invalid one. */
export function normalizeNamespace(namespace: string): string {
  const trimmed = namespace.trim().replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '' || trimmed.split('/').some((part) => !segment.test(part))) {
    throw new MonkError('TEMPLATE_INVALID', `"${namespace}" is not a valid namespace`);
  }
  return trimmed;
}

/**
 * Turns a reference as written in a template into a full path: `ns/name` stays, `/ns/name` drops its
 * leading slash, `./name` (and a bare `name`) is taken in the current namespace. Returns undefined when
 * the text is not a path.
 */
export function resolveReference(reference: string, namespace: string): string | undefined {
  const text = reference.trim();
  let path: string;
  if (text.startsWith('./')) path = `${namespace}/${text.slice(2)}`;
  else if (text.startsWith('/')) path = text.slice(1);
  else if (!text.includes('/')) path = `${namespace}/${text}`;
  else path = text;
  const parts = path.split('/');
  if (parts.length < 2 || parts.some((part) => !segment.test(part))) return undefined;
  return path;
}

/** Like {@link resolveReference} but throws `TEMPLATE_INVALID` naming `what` when the text is no path. */
export function requireReference(options: { reference: string; namespace: string; what: string }): string {
  const path = resolveReference(options.reference, options.namespace);
  if (path === undefined) {
    throw new MonkError('TEMPLATE_INVALID', `${options.what}: "${options.reference}" is not a template path`);
  }
  return path;
}
