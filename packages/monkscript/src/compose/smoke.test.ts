import { readFile, access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { it } from 'vitest';
import { importCompose } from './import-compose.ts';

const corpus = fileURLToPath(new URL('../../../../../shared/conformance/compose/', import.meta.url));
const files = {
  readFile: (p: string) => readFile(p, 'utf8'),
  exists: (p: string) => access(p).then(() => true, () => false),
};
it('smoke', async () => {
  const schema = JSON.parse(await readFile(`${corpus}compose-spec.json`, 'utf8')) as object;
  for (const dir of ['nginx-flask-mysql', 'wordpress-mysql', 'dogvscat-elk-stack', 'atsea-swarm-stack', 'minecraft', 'plex', 'zabbix']) {
    const file = `${corpus}${dir}/compose.yaml`;
    try {
      const result = await importCompose({ file, contents: await readFile(file, 'utf8'), files, schema, environment: { PLEX_MEDIA_PATH: '/m' } });
      console.log(dir, JSON.stringify(result, null, 1).slice(0, 5000));
    } catch (e) { console.log(dir, 'ERROR', e); }
  }
});
