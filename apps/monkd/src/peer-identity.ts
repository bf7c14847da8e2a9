import { join } from 'node:path';
import { z } from 'zod';
import { MonkError } from '@monk/model';
import { loadOrCreateIdentity, type PeerIdentity } from '@monk/p2p';
import { readDataFile, writeDataFile } from './data-file.ts';

const peerFileSchema = z.object({ name: z.string().min(1) });

/**
 * This host's peer: its libp2p identity (`identity.key`, Ed25519, mode 0600) whose id names it everywhere
 * (graph records, container labels), and its name (`peer.json`), both created once and kept.
 *
 * @throws MonkError `DATA_FILE_INVALID` when `peer.json` exists but is not `{"name": "…"}`; the message
 *   names the file, what is wrong with it and how to repair it.
 */
export async function loadOrCreatePeer(options: {
  dataDir: string;
  name: string;
}): Promise<{ identity: PeerIdentity; name: string }> {
  const identity = await loadOrCreateIdentity({ file: join(options.dataDir, 'identity.key') });
  const file = join(options.dataDir, 'peer.json');
  const body = await readDataFile(file).catch((error: unknown) => {
    throw new MonkError('DATA_FILE_INVALID', (error as Error).message, { cause: error, details: { file } });
  });
  if (body !== undefined) return { identity, name: parsePeerFile(file, body.toString('utf8')) };
  await writeDataFile(file, JSON.stringify({ name: options.name }));
  return { identity, name: options.name };
}

function parsePeerFile(file: string, text: string): string {
  const repair = `write it as {"name": "PEER-NAME"} (the name this peer had), or delete it and start monkd with --name PEER-NAME`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new MonkError(
      'DATA_FILE_INVALID',
      `${file} is not valid JSON (${(error as Error).message}); ${repair}`,
      { cause: error, details: { file } },
    );
  }
  const parsed = peerFileSchema.safeParse(value);
  if (!parsed.success) {
    const problem = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || 'the file'}: ${issue.message}`)
      .join('; ');
    throw new MonkError('DATA_FILE_INVALID', `${file} is not a peer file (${problem}); ${repair}`, {
      details: { file },
    });
  }
  return parsed.data.name;
}
