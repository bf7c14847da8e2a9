import { describe, expect, it } from 'vitest';
import { parseDuration } from './cluster-join-token.ts';

describe('parseDuration', () => {
  it.each([
    ['90', 90],
    ['90s', 90],
    ['30m', 1800],
    ['1h', 3600],
    ['2d', 172_800],
    ['1h30m', 5400],
    [' 1h ', 3600],
  ])('reads %j as %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '0', '0m', '1w', 'h', '1.5h', '-1h', '1 h', 'soon'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }));
  });
});
