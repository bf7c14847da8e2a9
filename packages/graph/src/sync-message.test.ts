import { describe, expect, it } from 'vitest';
import { decodeSyncMessage, encodeSyncMessage, syncProtocolVersion } from './sync-message.ts';

describe('sync message framing', () => {
  it('round-trips every message type', () => {
    for (const type of ['state-vector', 'catch-up', 'update'] as const) {
      const body = new Uint8Array([1, 2, 3]);
      const bytes = encodeSyncMessage({ type, body });
      expect(bytes[0]).toBe(syncProtocolVersion);
      expect(decodeSyncMessage(bytes)).toEqual({ ok: true, message: { type, body } });
    }
  });

  it('returns errors for short frames, other versions and unknown types', () => {
    for (const bytes of [[], [1], [2, 1], [1, 0], [1, 4]]) {
      const result = decodeSyncMessage(new Uint8Array(bytes));
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.error.code).toBe('PROTOCOL_ERROR');
    }
  });
});
