import { describe, expect, it } from 'vitest';
import { formatBinaryBytes, formatDecimalBytes, renderStats } from './stats-format.ts';

describe('monk stats output', () => {
  it.each([
    [0, '0B', '0B'],
    [999, '999B', '999B'],
    [1536, '1.50KiB', '1.54kB'],
    [4 * 1024 * 1024, '4.00MiB', '4.19MB'],
    [8 * 1024 ** 3, '8.00GiB', '8.59GB'],
    [123_456_789, '117.7MiB', '123.5MB'],
  ])('formats %d bytes as %s (memory) and %s (network)', (bytes, binary, decimal) => {
    expect(formatBinaryBytes(bytes)).toBe(binary);
    expect(formatDecimalBytes(bytes)).toBe(decimal);
  });

  it('renders a row per instance, like docker stats', () => {
    expect(
      renderStats([
        {
          workloadId: 'examples/web#web',
          container: 'web',
          peer: '12D3KooWAbCdEfGhIjKlMnOp',
          cpuPercent: 12.5,
          memoryBytes: 2 * 1024 * 1024,
          memoryLimitBytes: 8 * 1024 ** 3,
          networkRxBytes: 1300,
          networkTxBytes: 0,
          at: '2026-01-01T00:00:00.000Z',
        },
      ]),
    ).toMatchInlineSnapshot(`
      "INSTANCE           PEER            CPU %    MEM USAGE / LIMIT   MEM %   NET RX / TX
      examples/web#web   12D3Ko…KlMnOp   12.50%   2.00MiB / 8.00GiB   0.02%   1.30kB / 0B"
    `);
    expect(renderStats([])).toBe('No running instances.');
  });
});
