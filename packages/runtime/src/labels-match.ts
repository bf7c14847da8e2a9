/** True when `labels` carries every key of `filter` with the same value. */
export function labelsMatch(
  labels: Readonly<Record<string, string>>,
  filter: Readonly<Record<string, string>> | undefined,
): boolean {
  if (filter === undefined) return true;
  return Object.entries(filter).every(([key, value]) => labels[key] === value);
}
