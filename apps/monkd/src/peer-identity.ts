import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { MonkError } from '@monk/model';

const peerFileSchema = z.object({ id: z.string().min(1), name: z.string().min(1) });

/** This host's peer id and name, created once in the data dir and kept across restarts. */
export async function loadOrCreatePeer(options: {
  dataDir: string;
  name: string;
}): Promise<{ id: string; name: string }> {
  const file = join(options.dataDir, 'peer.json');
  try {
    const parsed = peerFileSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (!parsed.success)
      throw new MonkError('GRAPH_CORRUPT', `${file} is malformed: ${parsed.error.message}`);
    return parsed.data;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const peer = { id: `peer-${randomBytes(6).toString('hex')}`, name: options.name };
  await writeFile(`${file}.tmp`, JSON.stringify(peer), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
  return peer;
}
