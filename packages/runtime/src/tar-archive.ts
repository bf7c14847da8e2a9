import type { FileSpec } from '@monk/model';
import { MonkError } from '@monk/model';

const block = 512;

export interface EncodeTarOptions {
  readonly files: readonly FileSpec[];
  /** Modification time written on every entry. */
  readonly mtime: Date;
}

/**
 * Encodes files as a POSIX ustar archive (regular files only, owned by root), paths relative to `/`. Parent
 * directories get no entries on purpose: Docker creates missing ones and an entry would reset the mode of an
 * existing one (`/tmp`). Throws `INVALID_REQUEST` for a path that escapes `/` or does not fit ustar.
 */
export function encodeTar(options: EncodeTarOptions): Buffer {
  const mtime = Math.floor(options.mtime.getTime() / 1000);
  const parts: Buffer[] = [];
  for (const file of options.files) {
    const contents = Buffer.from(file.contents, 'utf8');
    parts.push(header({ path: archivePath(file.path), mode: file.mode, size: contents.length, mtime }));
    parts.push(contents, Buffer.alloc((block - (contents.length % block)) % block));
  }
  parts.push(Buffer.alloc(block * 2));
  return Buffer.concat(parts);
}

/** The normalised absolute form of a file path (`/etc//a` → `/etc/a`). Throws `INVALID_REQUEST` like {@link encodeTar}. */
export function containerFilePath(path: string): string {
  return `/${archivePath(path)}`;
}

function archivePath(path: string): string {
  const segments = path.split('/').filter((segment) => segment !== '' && segment !== '.');
  if (segments.length === 0 || segments.includes('..')) {
    throw new MonkError('INVALID_REQUEST', `file path "${path}" must name a file inside the container`);
  }
  return segments.join('/');
}

function header(entry: { path: string; mode: number; size: number; mtime: number }): Buffer {
  const buffer = Buffer.alloc(block);
  const { name, prefix } = splitPath(entry.path);
  buffer.write(name, 0, 100, 'utf8');
  writeOctal({ buffer, offset: 100, length: 8, value: entry.mode & 0o7777 });
  writeOctal({ buffer, offset: 108, length: 8, value: 0 });
  writeOctal({ buffer, offset: 116, length: 8, value: 0 });
  writeOctal({ buffer, offset: 124, length: 12, value: entry.size });
  writeOctal({ buffer, offset: 136, length: 12, value: entry.mtime });
  buffer.write('        ', 148, 8, 'ascii');
  buffer.write('0', 156, 1, 'ascii');
  buffer.write('ustar\u000000', 257, 8, 'ascii');
  buffer.write('root', 265, 32, 'ascii');
  buffer.write('root', 297, 32, 'ascii');
  buffer.write(prefix, 345, 155, 'utf8');
  let checksum = 0;
  for (const byte of buffer) checksum += byte;
  buffer.write(`${checksum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return buffer;
}

/** ustar keeps up to 100 bytes of name and 155 of directory prefix, split at a `/`. */
function splitPath(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  for (let index = path.indexOf('/'); index !== -1; index = path.indexOf('/', index + 1)) {
    const prefix = path.slice(0, index);
    const name = path.slice(index + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return { name, prefix };
  }
  throw new MonkError('INVALID_REQUEST', `file path "/${path}" is too long for a tar archive`);
}

function writeOctal(field: { buffer: Buffer; offset: number; length: number; value: number }): void {
  const digits = field.value.toString(8).padStart(field.length - 1, '0');
  if (digits.length > field.length - 1) {
    throw new MonkError('INVALID_REQUEST', `value ${field.value} does not fit a tar header field`);
  }
  field.buffer.write(`${digits}\u0000`, field.offset, field.length, 'ascii');
}
