import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { MonkError } from '@monk/model';
import { loadOrCreateIdentity, type PeerIdentity } from '@monk/p2p';

const peerFileSchema = z.object({ name: z.string().min(1) });

/**
 * This host's peer: its libp2p identity (`identity.key`, Ed25519, mode 0600) whose id names it everywhere
 * (graph records, container labels), and its name (`peer.json`), both created once and kept.
 */
export async function loadOrCreatePeer(options: {
  dataDir: string;
  name: string;
}): Promise<{ identity: PeerIdentity; name: string }> {
  const identity = await loadOrCreateIdentity({ file: join(options.dataDir, 'identity.key') });
  const file = join(options.dataDir, 'peer.json');
  try {
    const parsed = peerFileSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    if (!parsed.success)
      throw new MonkError('GRAPH_CORRUPT', `${file} is malformed: ${parsed.error.message}`);
    return { identity, name: parsed.data.name };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await writeFile(`${file}.tmp`, JSON.stringify({ name: options.name }), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
  return { identity, name: options.name };
}
