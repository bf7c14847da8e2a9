export {
  formatBytes,
  maxTemplateFileBytes,
  maxTemplateRecordBytes,
  parseTemplateRecord,
  templateKinds,
  templateRecordSchema,
} from './template-record.ts';
export type { TemplateKind, TemplateRecord, LoadWarning } from './template-record.ts';
export { createNodeFileSource, createMemoryFileSource } from './file-source.ts';
export type { FileSource } from './file-source.ts';
export { parseManifest } from './parse-manifest.ts';
export type { Manifest, ManifestImage } from './parse-manifest.ts';
export { loadTemplates } from './load-templates.ts';
export type { LoadTemplatesOptions, LoadTemplatesResult } from './load-templates.ts';
export { importCompose } from './compose/import-compose.ts';
export type {
  ComposeImport,
  ComposeSecret,
  ComposeWarning,
  ImportComposeOptions,
  ComposeFileSource,
} from './compose/import-compose.ts';
export { loadDocuments } from './load-documents.ts';
export type { LoadResult } from './load-documents.ts';
export { createTemplateSource } from './template-source.ts';
export type { TemplateSource } from './template-source.ts';
export { deepMerge } from './merge-template.ts';
export { resolveDeployment, dumpTemplate } from './resolve-deployment.ts';
export type { ResolveDeploymentOptions, ResolvedDeployment } from './resolve-deployment.ts';
export type { ResolveHost } from './resolve-context.ts';
export { readinessDefaults, secretPlaceholder } from './resolve-runnable.ts';
export type { KeptSections } from './resolve-runnable.ts';
export { runAction } from './run-action.ts';
export type { RunActionOptions, ActionResult } from './run-action.ts';
export { evaluateExpression } from './evaluate-expression.ts';
export type { ExpressionHost } from './evaluate-expression.ts';
export { renderGoTemplate } from './go-template.ts';
export { templateActions, templateInfo } from './template-info.ts';
export type { ActionInfo, ServiceInfo, TemplateInfo, VariableInfo } from './template-info.ts';
