export interface LineSplitter {
  /** Feeds bytes; returns the lines they complete, without `\n` (and without a `\r` before it). */
  push(chunk: Buffer): string[];
  /** The unterminated last line, if any. */
  flush(): string[];
}

/** Splits a byte stream into UTF-8 lines; splitting on bytes first keeps multi-byte characters whole. */
export function createLineSplitter(): LineSplitter {
  let partial: Buffer = Buffer.alloc(0);
  const decode = (bytes: Buffer): string => {
    const end = bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
    return bytes.toString('utf8', 0, end);
  };
  return {
    push(chunk) {
      let data = partial.length === 0 ? chunk : Buffer.concat([partial, chunk]);
      const lines: string[] = [];
      for (let index = data.indexOf(0x0a); index !== -1; index = data.indexOf(0x0a)) {
        lines.push(decode(data.subarray(0, index)));
        data = data.subarray(index + 1);
      }
      partial = Buffer.from(data);
      return lines;
    },
    flush() {
      const rest = partial;
      partial = Buffer.alloc(0);
      return rest.length === 0 ? [] : [decode(rest)];
    },
  };
}
