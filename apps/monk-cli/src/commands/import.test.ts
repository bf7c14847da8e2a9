import { describe, expect, it } from 'vitest';
import { createMemoryFileSource, importCompose, loadTemplates } from '@monk/monkscript';
import { renderImported } from './import.ts';
import { parsePortPair } from './port-forward.ts';

const compose = `services:
  web:
    image: nginx:1.27
    command: ["sh", "-c", "echo $\${GREETING} && exec nginx -g 'daemon off;'"]
    environment:
      GREETING: \${GREETING:-hello}
      YES_WORD: "no"
    ports: ["8080:80"]
    depends_on: [db]
    restart: unless-stopped
  db:
    image: postgres:16
    restart: "no"
    labels:
      enabled: "yes"
      count: "010"
    volumes: ["data:/var/lib/postgresql/data"]
    healthcheck:
      test: ["CMD", "pg_isready"]
      interval: 5s
volumes:
  data: {}
`;

describe('monk import', () => {
  it('writes MonkScript that loads to the same templates as the Compose file', async () => {
    const files = createMemoryFileSource({ '/p/shop/compose.yaml': compose });
    const imported = await importCompose({
      file: '/p/shop/compose.yaml',
      contents: compose,
      files: { readFile: (path) => files.readFile(path), exists: async () => false },
    });
    const yaml = await renderImported({
      source: 'compose.yaml',
      documents: imported.documents,
      warnings: ['service web: ports: something to say'],
      secrets: ['shop-token'],
    });
    expect(yaml).toMatch(/^# Imported from compose.yaml by monk import/);
    expect(yaml).toContain('# warning: service web: ports: something to say');
    expect(yaml).toContain('# secret shop-token: add it with monk secrets add -g shop-token=VALUE');

    const fromCompose = await loadTemplates({ entries: ['/p/shop/compose.yaml'], files });
    const fromImport = await loadTemplates({
      entries: ['/p/shop.yaml'],
      files: createMemoryFileSource({ '/p/shop.yaml': yaml }),
    });
    const definitions = (result: typeof fromCompose) =>
      result.templates.map((t) => [t['path'], t['definition']]);
    expect(definitions(fromImport)).toEqual(definitions(fromCompose));
    expect(definitions(fromImport).map(([path]) => path)).toEqual(['shop/db', 'shop/web', 'shop/shop']);
  });
});

describe('monk port-forward LOCAL:REMOTE', () => {
  it.each([
    ['8080:80', { local: 8080, remote: 80 }],
    ['80', { local: 80, remote: 80 }],
    ['0:5432', { local: 0, remote: 5432 }],
  ])('reads %s', (text, ports) => {
    expect(parsePortPair(text)).toEqual(ports);
  });

  it.each(['', '8080:', ':80', '8080:0', '70000:80', '80:70000', 'a:b', '1:2:3'])(
    'refuses %j, saying what it expects',
    (text) => {
      expect(() => parsePortPair(text)).toThrow(/expected LOCAL:REMOTE ports, e.g. 8080:80/);
    },
  );
});
