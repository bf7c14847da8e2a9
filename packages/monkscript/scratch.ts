import { createNodeFileSource, loadTemplates, createTemplateSource, resolveDeployment } from './src/index.ts';
import { toDnsLabel } from '@monk/model';
const root = '/work/shared/conformance/monk-kits';
const files = createNodeFileSource();
for (const kit of ['redis', 'postgresql', 'wordpress-mysql', 'redis-cluster-sentinel-haproxy', 'chatwoot', 'nginx', 'mongodb-sharded', 'agentsmesh', 'auth0-integration', 'monk-endpoints-example', 'load-balancers-docs']) {
  try {
    const entries = kit === 'agentsmesh' ? [`${root}/postgresql`, `${root}/agentsmesh`] : [`${root}/${kit}`];
    const { templates, warnings } = await loadTemplates({ entries, files });
    console.log(kit, templates.length, 'templates', warnings.length, 'warnings', warnings.filter(w=>w.code==='UNRESOLVED_REFERENCE').map(w => w.reference).join(','));
    const source = createTemplateSource(templates);
    for (const t of templates) {
      if (t.kind !== 'runnable' && t.kind !== 'process-group' && t.kind !== 'group') continue;
      try {
        const d = await resolveDeployment({ path: t.path, templates: source, host: { hostnameOf: (p) => toDnsLabel(p.replace('/', '-')), secret: async (n) => `secret-${n}` }, volumeRoot: '/vol' });
        console.log('  ok', t.path, d.runnables.map(r => r.path).join(' '), d.warnings.length ? d.warnings : '');
      } catch (e) { console.log('  FAIL', t.path, (e as Error & {code:string}).code, (e as Error).message.slice(0, 300)); }
    }
  } catch (e) { console.log(kit, 'LOAD FAIL', (e as Error & {code:string}).code, (e as Error).message); }
}
