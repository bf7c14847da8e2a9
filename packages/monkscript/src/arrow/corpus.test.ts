import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JsonValue, SourceLocation } from '@monk/model';
import { describe, expect, it } from 'vitest';
import { isMap, isPair, isScalar, LineCounter, parseAllDocuments, visit } from 'yaml';
import { evaluateArrow } from './evaluate.ts';
import type { ArrowHost } from './evaluate.ts';
import { isArrowExpression, parseArrow } from './parse.ts';

// The conformance corpus of real Monk kits; read in place, never copied.
const corpusRoot = fileURLToPath(new URL('../../../../../shared/conformance/monk-kits', import.meta.url));

interface CorpusExpression {
  readonly source: string;
  readonly location: SourceLocation;
  /** True for `code:` values of checks and actions, which are Arrow without the `<-`. */
  readonly bare: boolean;
}

function yamlFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

function collect(): CorpusExpression[] {
  const found: CorpusExpression[] = [];
  for (const file of yamlFiles(corpusRoot)) {
    const lineCounter = new LineCounter();
    const documents = parseAllDocuments(readFileSync(file, 'utf8'), { lineCounter });
    for (const document of Array.isArray(documents) ? documents : [documents]) {
      visit(document, {
        Scalar(key, node, path) {
          if (key !== 'value' || typeof node.value !== 'string') return;
          const parent = path.at(-1);
          const keyName = isPair(parent) && isScalar(parent.key) ? String(parent.key.value) : '';
          const bare =
            keyName === 'code' && path.some((ancestor) => isMap(ancestor)) && !isArrowExpression(node.value);
          if (!isArrowExpression(node.value) && !bare) return;
          const position = lineCounter.linePos(node.range?.[0] ?? 0);
          const keyPath = path.flatMap((ancestor) =>
            isPair(ancestor) && isScalar(ancestor.key) ? [String(ancestor.key.value)] : [],
          );
          found.push({
            source: node.value,
            bare,
            location: {
              file: relative(corpusRoot, file),
              line: position.line,
              column: position.col,
              path: keyPath.join('/'),
            },
          });
        },
      });
    }
  }
  return found;
}

const expressions = collect();
const arrowValues = expressions.filter((expression) => !expression.bare);
const codeValues = expressions.filter((expression) => expression.bare);

// Code values that are not valid Arrow as published: the inner double quotes of the mongodb readiness check are not
// escaped, so the string ends early.
const knownBroken = new Set(['mongodb-sharded/mongo.yaml:59']);

// A host that answers every runtime operator with something plausible and deterministic.
const fakeHost: Required<ArrowHost> = {
  connectionHostname: (name) => Promise.resolve(`${name}.monk`),
  connectionPort: () => Promise.resolve(5432),
  connectionIp: () => Promise.resolve('10.0.0.2'),
  connectionTarget: (name) => Promise.resolve(`targets/${name}`),
  connectionDomainName: (name) => Promise.resolve(`${name}.example.com`),
  connectionPublicIp: () => Promise.resolve('203.0.113.7'),
  connectionPublicPort: () => Promise.resolve(8443),
  getHostname: (runnable, container) => Promise.resolve(`${runnable}-${container}`),
  getContainerIp: () => Promise.resolve('10.0.0.3'),
  getResolverIp: () => Promise.resolve('127.0.0.11'),
  containerName: (name) => Promise.resolve(`app_${name}`),
  containerDomainName: (runnable, container) => Promise.resolve(`${runnable}_${container}`),
  peerIpAddress: () => Promise.resolve('198.51.100.1'),
  ipAddressPublic: () => Promise.resolve('198.51.100.2'),
  sslCertificate: () => Promise.resolve('-----BEGIN CERTIFICATE-----'),
  sslPrivateKey: () => Promise.resolve('-----BEGIN PRIVATE KEY-----'),
  secret: (name) => Promise.resolve(`secret-of-${name}`),
  exec: (container, command) =>
    Promise.resolve(`${container}: ${command.join(' ')} ready accepting connections ok 1`),
  httpGet: (url) => Promise.resolve(`GET ${url} ok agentsmesh-api`),
  httpPost: (url, request) => Promise.resolve(`POST ${url} ${request.body}`),
  entity: (path) => Promise.resolve({ path }),
  entityState: (path) =>
    Promise.resolve<JsonValue>({
      url: `https://${path}`,
      id: 'id-1',
      name: 'n',
      hostname: 'h',
      'client-id': 'c',
      'client-secret': 's',
    }),
  runnablePeers: () => Promise.resolve([]),
  act: (action) => Promise.resolve(action),
  waitFor: () => Promise.resolve(true),
  setVariable: () => Promise.resolve(undefined),
  randomUuid: () => '00000000-0000-4000-8000-000000000000',
};

const everyVariable = { lookup: (name: string): JsonValue => `<${name}>` };

describe('the Monk kit corpus', () => {
  it('has Arrow expressions to check', () => {
    expect(arrowValues.length).toBeGreaterThan(150);
    expect(codeValues.length).toBeGreaterThan(5);
  });

  it.each(
    arrowValues.map(
      (expression) => [`${expression.location.file}:${expression.location.line}`, expression] as const,
    ),
  )('%s parses and evaluates', async (_name, expression) => {
    const program = parseArrow(expression.source, expression.location);
    // Programs are plain data: they survive a JSON round trip, so they can be cached or shipped.
    expect(JSON.parse(JSON.stringify(program))).toEqual(program);
    const value = await evaluateArrow(program, {
      scope: everyVariable,
      host: fakeHost,
      location: expression.location,
    });
    expect(JSON.parse(JSON.stringify(value))).toEqual(value);
  });

  it.each(
    codeValues.map(
      (expression) => [`${expression.location.file}:${expression.location.line}`, expression] as const,
    ),
  )('code value %s parses and evaluates (or is a known broken one)', async (name, expression) => {
    if (knownBroken.has(name)) {
      expect(() => parseArrow(expression.source, expression.location)).toThrow(
        expect.objectContaining({ code: 'ARROW_SYNTAX' }),
      );
      return;
    }
    const program = parseArrow(expression.source, expression.location);
    await evaluateArrow(program, { scope: everyVariable, host: fakeHost, location: expression.location });
  });
});
