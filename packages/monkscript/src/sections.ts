import type { JsonObject, JsonValue } from '@monk/model';

/** True for a JSON object (not an array, not null). */
export function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Finds a sub-section of a definition by its descriptor. MonkScript names sections by `defines`, not by
 * key (`fun-boxes: {defines: containers}` is a containers section); a key equal to the descriptor
 * is used when no entry declares it.
 */
export function findSection(
  definition: JsonObject,
  descriptor: string,
): { key: string; value: JsonObject } | undefined {
  for (const [key, value] of Object.entries(definition)) {
    if (isObject(value) && value['defines'] === descriptor) return { key, value };
  }
  const direct = definition[descriptor];
  return isObject(direct) ? { key: descriptor, value: direct } : undefined;
}

/** The entries of a section, without its `defines` label. */
export function sectionEntries(section: JsonObject | undefined): [string, JsonValue][] {
  if (section === undefined) return [];
  return Object.entries(section).filter(([key]) => key !== 'defines');
}
