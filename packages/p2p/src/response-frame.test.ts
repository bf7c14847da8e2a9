import { MonkError } from '@monk/model';
import { describe, expect, it } from 'vitest';
import { decodeResponse, encodeErrorResponse, encodeOkResponse } from './response-frame.ts';

describe('response frames', () => {
  it('carries a payload', () => {
    expect(decodeResponse(encodeOkResponse(new Uint8Array([1, 2])), 'x')).toEqual(new Uint8Array([1, 2]));
  });

  it('carries a MonkError with its code and message, and anything else as INTERNAL', () => {
    const thrown = () =>
      decodeResponse(encodeErrorResponse(new MonkError('CHECK_FAILED', 'probe failed')), 'x');
    expect(thrown).toThrow(expect.objectContaining({ code: 'CHECK_FAILED', message: 'probe failed' }));
    expect(() => decodeResponse(encodeErrorResponse(new TypeError('bad')), 'x')).toThrow(
      expect.objectContaining({ code: 'INTERNAL', message: 'bad' }),
    );
  });

  it.each([
    ['empty', new Uint8Array(0)],
    ['unknown status', new Uint8Array([9, 1])],
    ['broken error JSON', new Uint8Array([1, 0x7b])],
  ])('refuses a malformed frame (%s) with PROTOCOL_ERROR', (_name, frame) => {
    expect(() => decodeResponse(frame, 'x')).toThrow(expect.objectContaining({ code: 'PROTOCOL_ERROR' }));
  });
});
