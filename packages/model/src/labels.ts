/**
 * Labels monk puts on every container it creates. Anything without `monk.managed=true` is never touched.
 */
export const monkLabels = {
  managed: 'monk.managed',
  workload: 'monk.workload',
  runnable: 'monk.runnable',
  container: 'monk.container',
  deployment: 'monk.deployment',
  specHash: 'monk.spec-hash',
  peer: 'monk.peer',
  generation: 'monk.generation',
} as const;
