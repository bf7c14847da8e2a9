import { describe, expect, it } from 'vitest';
import { encodeRecord, recordHeaderBytes, scanLog } from './log-scan.ts';
import { createPrng } from './test-network.ts';

/** A log of `count` records of random sizes and contents, with each record's start offset. */
function makeLog(seed: number, count: number): { log: Buffer; records: Uint8Array[]; starts: number[] } {
  const random = createPrng(seed);
  const records: Uint8Array[] = [];
  const starts: number[] = [];
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const payload = new Uint8Array(1 + Math.floor(random() * 300));
    for (let j = 0; j < payload.length; j++) payload[j] = Math.floor(random() * 256);
    records.push(payload);
    starts.push(offset);
    offset += recordHeaderBytes + payload.length;
  }
  return { log: Buffer.concat(records.map((r) => encodeRecord(r))), records, starts };
}

describe('scanLog', () => {
  it('reads a whole log, and an empty one', () => {
    const { log, records } = makeLog(1, 20);
    expect(scanLog(log)).toEqual({ kind: 'whole', records });
    expect(scanLog(new Uint8Array(0))).toEqual({ kind: 'whole', records: [] });
  });

  it('calls every cut inside the last record a torn tail, keeping every record before it', () => {
    const { log, records, starts } = makeLog(2, 10);
    const last = starts[9] ?? 0;
    for (let end = last + 1; end < log.length; end++) {
      const scan = scanLog(log.subarray(0, end));
      expect(scan, `cut at ${end}`).toEqual({
        kind: 'torn-tail',
        records: records.slice(0, 9),
        validBytes: last,
        totalBytes: end,
      });
    }
  });

  it('calls zeros that a crash left after the last record a torn tail', () => {
    const { log, records } = makeLog(3, 5);
    const scan = scanLog(Buffer.concat([log, Buffer.alloc(4096)]));
    expect(scan).toMatchObject({ kind: 'torn-tail', records, validBytes: log.length });
  });

  it('calls a torn batch of several records a torn tail (the first of them cut mid-payload)', () => {
    const { log, records, starts } = makeLog(4, 12);
    // Records 10..12 were one group-committed append; the crash kept part of record 10 only.
    const cut = (starts[9] ?? 0) + recordHeaderBytes + 1;
    expect(scanLog(log.subarray(0, cut))).toMatchObject({ kind: 'torn-tail', records: records.slice(0, 9) });
  });

  // The reproduction of issue 7: one flipped byte anywhere must never pass for a torn tail, which would
  // silently drop acknowledged records (and with them deployments, and then their containers).
  it('finds the damaged record for 300 seeded single-byte flips, and keeps every other record', () => {
    const random = createPrng(7);
    for (let run = 0; run < 300; run++) {
      const { log, records, starts } = makeLog(1000 + run, 2 + Math.floor(random() * 40));
      const at = Math.floor(random() * log.length);
      const damaged = Buffer.from(log);
      damaged[at] = (damaged[at] ?? 0) ^ (1 + Math.floor(random() * 255));
      const index = starts.findLastIndex((start) => start <= at);
      const scan = scanLog(damaged);
      const where = `run ${run}: flip at byte ${at} of ${log.length}, in record ${index + 1} of ${records.length}`;
      expect(scan.kind, where).toBe('damaged');
      if (scan.kind !== 'damaged') continue;
      expect(scan.ranges[0], where).toMatchObject({ offset: starts[index], recordsBefore: index });
      expect(scan.records, where).toEqual(records.filter((_, i) => i !== index));
    }
  });

  it('reports each damaged stretch when several records are hit', () => {
    const { log, records, starts } = makeLog(5, 30);
    const damaged = Buffer.from(log);
    for (const index of [3, 17, 29]) {
      const at = (starts[index] ?? 0) + recordHeaderBytes;
      damaged[at] = (damaged[at] ?? 0) ^ 0xff;
    }
    const scan = scanLog(damaged);
    expect(scan.kind).toBe('damaged');
    if (scan.kind !== 'damaged') return;
    expect(scan.ranges.map((r) => r.offset)).toEqual([starts[3], starts[17], starts[29]]);
    expect(scan.records).toEqual(records.filter((_, i) => ![3, 17, 29].includes(i)));
  });

  it('calls a last record whose length field was damaged, but whose payload is all there, damaged', () => {
    const { log, starts } = makeLog(6, 4);
    const damaged = Buffer.from(log);
    const last = starts[3] ?? 0;
    damaged.writeUInt32BE(damaged.readUInt32BE(last) + 1000, last);
    expect(scanLog(damaged).kind).toBe('damaged');
  });
});
