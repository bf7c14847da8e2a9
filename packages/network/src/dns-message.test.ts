import { describe, expect, it } from 'vitest';
import { dnsTypes, encodeQuery, encodeResponse, parseQuery, parseResponse } from './dns-message.ts';

describe('DNS messages', () => {
  it('reads a query with an EDNS record and answers with one', () => {
    const opt = Buffer.from([0, 0, 41, 0x10, 0x00, 0, 0, 0, 0, 0, 0]);
    const plain = encodeQuery({ id: 7, name: 'web.app.monk', type: dnsTypes.A });
    plain.writeUInt16BE(1, 10);
    const query = parseQuery(Buffer.concat([plain, opt]));
    expect(query).toEqual({
      id: 7,
      opcode: 0,
      recursionDesired: true,
      questions: [{ name: 'web.app.monk', type: dnsTypes.A, class: 1 }],
      ednsPayloadSize: 4096,
    });
    const reply = encodeResponse(query, {
      rcode: 0,
      answers: [{ type: 'AAAA', name: 'web.app.monk', ttl: 5, address: '::ffff:10.0.0.1' }],
    });
    expect(reply.readUInt16BE(10)).toBe(1);
    expect(parseResponse(reply).answers).toEqual([
      { name: 'web.app.monk', type: dnsTypes.AAAA, ttl: 5, data: '0:0:0:0:0:ffff:a00:1' },
    ]);
  });

  it.each([
    ['a compression loop', Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1])],
    ['a response', Buffer.from([0, 1, 0x81, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
    ['a short header', Buffer.from([0, 1, 1])],
    ['a label past the end', Buffer.from([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 9, 0x61])],
  ])('refuses %s with PROTOCOL_ERROR', (_, message) => {
    expect(() => parseQuery(message)).toThrow(expect.objectContaining({ code: 'PROTOCOL_ERROR' }));
  });
});
