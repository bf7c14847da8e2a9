import { describe, expect, it } from 'vitest';
import { parseBytes, parseCpus, parseDuration } from './parse-units.ts';

describe('parseDuration', () => {
  it.each([
    ['10s', 10],
    ['1m30s', 90],
    ['1.5s', 1.5],
    ['500ms', 0.5],
    ['2h', 7200],
    ['1h1m1s', 3661],
    ['30', 30],
    [5, 5],
  ] as const)('%j → %d s', (text, seconds) => {
    expect(parseDuration(text)).toBeCloseTo(seconds);
  });
  it.each(['', 'ten', '10x', '1m 30s'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(expect.objectContaining({ code: 'COMPOSE_INVALID' }));
  });
});

describe('parseBytes', () => {
  it.each([
    ['1.5G', 1610612736],
    ['1G', 1073741824],
    ['512M', 536870912],
    ['512m', 536870912],
    ['1gb', 1073741824],
    ['64k', 65536],
    ['2048', 2048],
    ['10b', 10],
    [1000, 1000],
  ] as const)('%j → %d', (text, bytes) => {
    expect(parseBytes(text)).toBe(bytes);
  });
  it.each(['', 'lots', '1X', '-1m'])('rejects %j', (text) => {
    expect(() => parseBytes(text)).toThrow(expect.objectContaining({ code: 'COMPOSE_INVALID' }));
  });
});

describe('parseCpus', () => {
  it.each([
    ['0.70', 0.7],
    ['2', 2],
    [0.5, 0.5],
  ] as const)('%j → %d', (text, cpus) => {
    expect(parseCpus(text)).toBe(cpus);
  });
  it.each(['', 'many', '-1'])('rejects %j', (text) => {
    expect(() => parseCpus(text)).toThrow(expect.objectContaining({ code: 'COMPOSE_INVALID' }));
  });
});
