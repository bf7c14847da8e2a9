import { describe, expect, it } from 'vitest';
import {
  decodeMembershipMessage,
  encodeMembershipMessage,
  maxMembershipMessageBytes,
  type MembershipMessage,
} from './membership-codec.ts';

const text = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

describe('membership codec', () => {
  it('round-trips every message type', () => {
    const messages: MembershipMessage[] = [
      {
        v: 1,
        type: 'ping',
        target: 'b',
        updates: [
          { kind: 'alive', id: 'a', incarnation: 3, meta: { name: 'host-a' } },
          { kind: 'suspect', id: 'c', incarnation: 1, from: 'a' },
          { kind: 'dead', id: 'd', incarnation: 0, from: 'a' },
          { kind: 'left', id: 'e', incarnation: 7 },
        ],
      },
      { v: 1, type: 'ack', updates: [] },
      { v: 1, type: 'ping-req', target: 'c', timeoutMs: 180, updates: [] },
      { v: 1, type: 'ping-req-result', ok: false, updates: [] },
      { v: 1, type: 'gossip', updates: [] },
      {
        v: 1,
        type: 'push-pull',
        join: true,
        members: [{ id: 'a', state: 'dead', incarnation: 2, meta: {} }],
      },
    ];
    for (const message of messages) {
      expect(decodeMembershipMessage(encodeMembershipMessage(message))).toEqual({ ok: true, message });
    }
  });

  it.each([
    ['not UTF-8', new Uint8Array([0xc3, 0x28]), 'not UTF-8 JSON'],
    ['not JSON', new TextEncoder().encode('{'), 'not UTF-8 JSON'],
    ['another version', text({ v: 2, type: 'ack', updates: [] }), 'unsupported wire version 2'],
    ['no version', text({ type: 'ack', updates: [] }), 'invalid message: v'],
    ['an unknown type', text({ v: 1, type: 'hello' }), 'invalid message: type'],
    [
      'a negative incarnation',
      text({ v: 1, type: 'gossip', updates: [{ kind: 'left', id: 'a', incarnation: -1 }] }),
      'updates.0.incarnation',
    ],
    ['an empty id', text({ v: 1, type: 'ping', target: '', updates: [] }), 'invalid message: target'],
    [
      'an unknown state',
      text({
        v: 1,
        type: 'push-pull',
        join: false,
        members: [{ id: 'a', state: 'zombie', incarnation: 0, meta: {} }],
      }),
      'members.0.state',
    ],
  ])('drops %s with a reason', (_name, bytes, reason) => {
    const result = decodeMembershipMessage(bytes);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toContain(reason);
  });

  it('drops an oversized message before parsing it', () => {
    const result = decodeMembershipMessage(new Uint8Array(maxMembershipMessageBytes + 1));
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('exceeds') as unknown });
  });
});
