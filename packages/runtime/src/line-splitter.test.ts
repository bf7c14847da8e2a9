import { describe, expect, it } from 'vitest';
import { createLineSplitter } from './line-splitter.ts';

describe('createLineSplitter', () => {
  it('splits on newlines across chunks, keeping multi-byte characters whole', () => {
    const bytes = Buffer.from('première\r\nzweite ü\n\nlast');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const splitter = createLineSplitter();
      const lines = [
        ...splitter.push(bytes.subarray(0, cut)),
        ...splitter.push(bytes.subarray(cut)),
        ...splitter.flush(),
      ];
      expect(lines, `cut at ${cut}`).toEqual(['première', 'zweite ü', '', 'last']);
    }
  });

  it('has nothing to flush after a final newline', () => {
    const splitter = createLineSplitter();
    expect(splitter.push(Buffer.from('a\n'))).toEqual(['a']);
    expect(splitter.flush()).toEqual([]);
  });
});
