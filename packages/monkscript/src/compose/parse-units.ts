import { MonkError } from '@monk/model';

const durationUnits: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

/**
 * Parses a Compose duration (Go syntax: `1m30s`, `1.5s`, `500ms`, `2h`) into seconds. A bare number is
 * taken as seconds.
 *
 * @throws MonkError `COMPOSE_INVALID` when the text is not a duration.
 * @example parseDuration('1m30s') // 90
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') return value;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let seconds = 0;
  let index = 0;
  while (index < text.length) {
    part.lastIndex = index;
    const match = part.exec(text);
    if (match === null) break;
    seconds += Number(match[1]) * (durationUnits[match[2] ?? 's'] ?? 1);
    index = part.lastIndex;
  }
  if (text === '' || index !== text.length) {
    throw new MonkError('COMPOSE_INVALID', `invalid duration ${JSON.stringify(value)}`);
  }
  return seconds;
}

const byteUnits: Record<string, number> = {
  '': 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/**
 * Parses a Compose byte size (`512m`, `1.5G`, `1gb`, `2048`, units binary as Docker's) into bytes.
 *
 * @throws MonkError `COMPOSE_INVALID` when the text is not a size.
 * @example parseBytes('1.5G') // 1610612736
 */
export function parseBytes(value: string | number): number {
  if (typeof value === 'number') return Math.floor(value);
  const match = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?$/i.exec(value.trim());
  if (match === null) throw new MonkError('COMPOSE_INVALID', `invalid byte size ${JSON.stringify(value)}`);
  return Math.floor(Number(match[1]) * (byteUnits[(match[2] ?? '').toLowerCase()] ?? 1));
}

/**
 * Parses a CPU count (`0.5`, `'1.5'`).
 *
 * @throws MonkError `COMPOSE_INVALID` when it is not a positive number.
 */
export function parseCpus(value: string | number): number {
  const cpus = typeof value === 'number' ? value : Number(value.trim());
  if (!Number.isFinite(cpus) || cpus < 0 || (typeof value === 'string' && value.trim() === '')) {
    throw new MonkError('COMPOSE_INVALID', `invalid cpus ${JSON.stringify(value)}`);
  }
  return cpus;
}
