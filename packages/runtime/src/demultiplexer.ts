/** One frame of Docker's multiplexed stdout/stderr stream. */
export interface OutputFrame {
  readonly stream: 'stdout' | 'stderr';
  readonly data: Buffer;
}

export interface Demultiplexer {
  /** Feeds bytes as they arrive; returns the frames completed by them. */
  push(chunk: Buffer): OutputFrame[];
  /** Bytes of an incomplete frame left at the end of the stream, returned as stdout. */
  flush(): OutputFrame[];
}

const headerLength = 8;

/**
 * Parses Docker's attach/logs multiplexing: each frame is an 8-byte header (stream type, 3 zero bytes,
 * big-endian payload length) and the payload. A header that is not one (a TTY stream, which is raw) switches
 * to passing everything through as stdout, as the Docker CLI does.
 */
export function createDemultiplexer(): Demultiplexer {
  let pending: Buffer = Buffer.alloc(0);
  let raw = false;

  return {
    push(chunk) {
      if (raw) return chunk.length === 0 ? [] : [{ stream: 'stdout', data: chunk }];
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const frames: OutputFrame[] = [];
      while (pending.length >= headerLength) {
        const type = pending.readUInt8(0);
        if (type > 2 || pending.readUInt8(1) !== 0 || pending.readUInt16BE(2) !== 0) {
          raw = true;
          frames.push({ stream: 'stdout', data: pending });
          pending = Buffer.alloc(0);
          break;
        }
        const length = pending.readUInt32BE(4);
        if (pending.length < headerLength + length) break;
        frames.push({
          stream: type === 2 ? 'stderr' : 'stdout',
          data: pending.subarray(headerLength, headerLength + length),
        });
        pending = pending.subarray(headerLength + length);
      }
      return frames;
    },
    flush() {
      const rest: Buffer = pending;
      pending = Buffer.alloc(0);
      return rest.length === 0 ? [] : [{ stream: 'stdout', data: rest }];
    },
  };
}
