import * as decoding from 'lib0/decoding';
import * as encoding from 'lib0/encoding';
import { canonicalJson, MonkError } from '@monk/model';
import type { ObservedBlock, ObservedEntry, ObservedVector } from './observed-registers.ts';

/**
 * The bytes a graph hands out (updates, state vectors) are this package's own envelope, so the Yjs part
 * and the observed registers travel and persist together:
 *
 *   update       = u8 version(1) · varbytes yjsUpdate (empty: none) · varuint n · block{n}
 *   block        = u8 kind (0 delta, 1 full) · varstring peer · [varuint from, if delta] · varuint to
 *                  · varuint m · entry{m}
 *   entry        = varstring workloadId · varuint seq · u8 live · [varstring canonical JSON, if live]
 *   state vector = u8 version(1) · varbytes yjsStateVector · varuint n · (varstring peer · varuint seq){n}
 */
const formatVersion = 1;

/** A decoded update. Observed values are raw JSON here: the graph validates them. */
export interface DecodedUpdate {
  readonly yjs: Uint8Array | undefined;
  readonly blocks: readonly RawBlock[];
}

export type RawEntry = Omit<ObservedEntry, 'value'> & { readonly value: unknown };
export type RawBlock =
  | (Omit<Extract<ObservedBlock, { kind: 'delta' }>, 'entries'> & { readonly entries: readonly RawEntry[] })
  | (Omit<Extract<ObservedBlock, { kind: 'full' }>, 'entries'> & { readonly entries: readonly RawEntry[] });

export interface DecodedStateVector {
  readonly yjs: Uint8Array;
  readonly observed: ObservedVector;
}

export function encodeGraphUpdate(update: {
  yjs: Uint8Array | undefined;
  blocks: readonly ObservedBlock[];
}): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeUint8(encoder, formatVersion);
  encoding.writeVarUint8Array(encoder, update.yjs ?? new Uint8Array(0));
  encoding.writeVarUint(encoder, update.blocks.length);
  for (const block of update.blocks) {
    encoding.writeUint8(encoder, block.kind === 'delta' ? 0 : 1);
    encoding.writeVarString(encoder, block.peer);
    if (block.kind === 'delta') encoding.writeVarUint(encoder, block.from);
    encoding.writeVarUint(encoder, block.to);
    encoding.writeVarUint(encoder, block.entries.length);
    for (const entry of block.entries) writeEntry(encoder, entry);
  }
  return encoding.toUint8Array(encoder);
}

function writeEntry(encoder: encoding.Encoder, entry: ObservedEntry): void {
  encoding.writeVarString(encoder, entry.key);
  encoding.writeVarUint(encoder, entry.seq);
  encoding.writeUint8(encoder, entry.value === undefined ? 0 : 1);
  if (entry.value !== undefined) encoding.writeVarString(encoder, canonicalJson(entry.value));
}

/** Decodes an update envelope. Throws `PROTOCOL_ERROR` on anything malformed. */
export function decodeGraphUpdate(bytes: Uint8Array): DecodedUpdate {
  return guarded('graph update', () => {
    const decoder = decoding.createDecoder(bytes);
    readVersion(decoder);
    const yjs = decoding.readVarUint8Array(decoder);
    const blocks: RawBlock[] = [];
    const blockCount = readCount(decoder);
    for (let i = 0; i < blockCount; i++) {
      const kind = decoding.readUint8(decoder);
      if (kind !== 0 && kind !== 1) throw new Error(`unknown block kind ${kind}`);
      const peer = decoding.readVarString(decoder);
      const from = kind === 0 ? decoding.readVarUint(decoder) : 0;
      const to = decoding.readVarUint(decoder);
      const entries: RawEntry[] = [];
      const entryCount = readCount(decoder);
      for (let j = 0; j < entryCount; j++) {
        const key = decoding.readVarString(decoder);
        const seq = decoding.readVarUint(decoder);
        const live = decoding.readUint8(decoder);
        if (live > 1) throw new Error(`bad live flag ${live}`);
        const value: unknown = live === 1 ? JSON.parse(decoding.readVarString(decoder)) : undefined;
        entries.push({ key, seq, value });
      }
      blocks.push(
        kind === 0 ? { kind: 'delta', peer, from, to, entries } : { kind: 'full', peer, to, entries },
      );
    }
    readEnd(decoder);
    return { yjs: yjs.length === 0 ? undefined : yjs, blocks };
  });
}

export function encodeGraphStateVector(vector: DecodedStateVector): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeUint8(encoder, formatVersion);
  encoding.writeVarUint8Array(encoder, vector.yjs);
  const peers = [...vector.observed].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  encoding.writeVarUint(encoder, peers.length);
  for (const [peer, seq] of peers) {
    encoding.writeVarString(encoder, peer);
    encoding.writeVarUint(encoder, seq);
  }
  return encoding.toUint8Array(encoder);
}

/** Decodes a state vector envelope. Throws `PROTOCOL_ERROR` on anything malformed. */
export function decodeGraphStateVector(bytes: Uint8Array): DecodedStateVector {
  return guarded('graph state vector', () => {
    const decoder = decoding.createDecoder(bytes);
    readVersion(decoder);
    const yjs = decoding.readVarUint8Array(decoder);
    const observed = new Map<string, number>();
    const count = readCount(decoder);
    for (let i = 0; i < count; i++) {
      const peer = decoding.readVarString(decoder);
      observed.set(peer, decoding.readVarUint(decoder));
    }
    readEnd(decoder);
    return { yjs, observed };
  });
}

function readVersion(decoder: decoding.Decoder): void {
  const version = decoding.readUint8(decoder);
  if (version !== formatVersion) throw new Error(`unsupported format version ${version}`);
}

/** A count can never exceed the bytes left, which keeps garbage from allocating huge arrays. */
function readCount(decoder: decoding.Decoder): number {
  const count = decoding.readVarUint(decoder);
  if (count > decoder.arr.length - decoder.pos) throw new Error(`count ${count} exceeds the message`);
  return count;
}

function readEnd(decoder: decoding.Decoder): void {
  if (decoding.hasContent(decoder)) throw new Error(`${decoder.arr.length - decoder.pos} trailing bytes`);
}

function guarded<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MonkError('PROTOCOL_ERROR', `malformed ${what}: ${reason}`, { cause: error });
  }
}
