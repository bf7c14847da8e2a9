import { crc32 } from 'node:zlib';

/** Every log record starts with `[u32 BE payload length][u32 BE crc32(payload)]`. */
export const recordHeaderBytes = 8;
/** A length beyond this is treated as corruption rather than allocated. */
const maxRecordBytes = 1 << 30;

/** A stretch of the log that holds no intact record. */
export interface DamagedRange {
  /** Byte offset of the first byte that is not part of an intact record. */
  readonly offset: number;
  readonly bytes: number;
  /** How many intact records precede it (so the damaged record is number `recordsBefore + 1`). */
  readonly recordsBefore: number;
}

/**
 * What {@link scanLog} found in a graph log:
 * - `whole`: every byte belongs to an intact record;
 * - `torn-tail`: intact records, then the remains of one last write that a crash cut short (a partial
 *   header, a payload shorter than its length, or zeros a crash left in preallocated blocks). Nothing
 *   that was acknowledged is lost by dropping it: an append resolves only after its whole record is fsynced;
 * - `damaged`: some byte of an intact, acknowledged record changed (bit rot, a stray write, an editor).
 *   `records` holds every record still intact, before and after the damage, and `ranges` says where the
 *   damage is. Acting on such a log would silently roll the graph back.
 */
export type LogScan =
  | { readonly kind: 'whole'; readonly records: readonly Uint8Array[] }
  | {
      readonly kind: 'torn-tail';
      readonly records: readonly Uint8Array[];
      readonly validBytes: number;
      readonly totalBytes: number;
    }
  | {
      readonly kind: 'damaged';
      readonly records: readonly Uint8Array[];
      readonly ranges: readonly DamagedRange[];
      readonly totalBytes: number;
    };

export function encodeRecord(payload: Uint8Array): Buffer {
  const header = Buffer.alloc(recordHeaderBytes);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([header, payload]);
}

/** Reads one intact record at `offset`; undefined when it is torn, empty or fails its checksum. */
export function readRecord(buffer: Uint8Array, offset: number): Uint8Array | undefined {
  if (offset + recordHeaderBytes > buffer.length) return undefined;
  const view = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const length = view.readUInt32BE(offset);
  // Zero-length records never get written: zeros are what a crash leaves in preallocated blocks.
  if (length === 0 || length > maxRecordBytes) return undefined;
  const start = offset + recordHeaderBytes;
  if (start + length > buffer.length) return undefined;
  const payload = view.subarray(start, start + length);
  if (crc32(payload) !== view.readUInt32BE(offset + 4)) return undefined;
  return new Uint8Array(payload);
}

/**
 * Classifies a graph log (pure; see {@link LogScan}). The rule that keeps a damaged log from passing as
 * a torn one: a torn write can only be the *last* thing in the file, so bad bytes followed by any intact
 * record are damage; and a last record whose whole payload is present (its checksum matches the bytes
 * that are there, or its length fits in the file) was written completely, so a mismatch there is damage.
 */
export function scanLog(buffer: Uint8Array): LogScan {
  const records: Uint8Array[] = [];
  const ranges: DamagedRange[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const record = readRecord(buffer, offset);
    if (record !== undefined) {
      records.push(record);
      offset += recordHeaderBytes + record.length;
      continue;
    }
    const next = nextIntactRecord(buffer, offset + 1);
    if (next === undefined) {
      if (ranges.length === 0 && isTornWrite(buffer, offset)) {
        return { kind: 'torn-tail', records, validBytes: offset, totalBytes: buffer.length };
      }
      ranges.push({ offset, bytes: buffer.length - offset, recordsBefore: records.length });
      break;
    }
    ranges.push({ offset, bytes: next - offset, recordsBefore: records.length });
    offset = next;
  }
  if (ranges.length === 0) return { kind: 'whole', records };
  return { kind: 'damaged', records, ranges, totalBytes: buffer.length };
}

/** The offset of the first intact record at or after `from`, if any. */
function nextIntactRecord(buffer: Uint8Array, from: number): number | undefined {
  for (let offset = from; offset + recordHeaderBytes < buffer.length; offset++) {
    if (readRecord(buffer, offset) !== undefined) return offset;
  }
  return undefined;
}

/** Whether the bytes from `offset` to the end can be what a crash during the last append left. */
function isTornWrite(buffer: Uint8Array, offset: number): boolean {
  const rest = buffer.length - offset;
  if (rest < recordHeaderBytes) return true;
  const view = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const length = view.readUInt32BE(offset);
  if (length === 0) return view.subarray(offset).every((byte) => byte === 0);
  if (length > maxRecordBytes) return false;
  const start = offset + recordHeaderBytes;
  // The whole payload is in the file: the write finished, and only damage can fail the checksum.
  if (start + length <= buffer.length) return false;
  // A payload shorter than its length is torn, unless what is there matches the checksum: then the record
  // is complete and its length field was damaged.
  return crc32(view.subarray(start)) !== view.readUInt32BE(offset + 4);
}
