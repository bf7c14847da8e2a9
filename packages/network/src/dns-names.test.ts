import { describe, expect, it } from 'vitest';
import { meshDnsName, parseMeshDnsName, runnableMeshDnsName } from './dns-names.ts';

describe('meshDnsName / parseMeshDnsName', () => {
  it.each([
    [{ namespace: 'shop', runnable: 'web' }, 'web.shop.monk', { namespace: 'shop', runnable: 'web' }],
    [
      { namespace: 'shop', runnable: 'web', container: 'nginx' },
      'nginx.web.shop.monk',
      { namespace: 'shop', runnable: 'web', container: 'nginx' },
    ],
    [
      { namespace: 'My.Shop', runnable: 'Web_Front' },
      'web-front.my-shop.monk',
      { namespace: 'my-shop', runnable: 'web-front' },
    ],
  ])('%j ⇄ %s', (target, name, labels) => {
    expect(meshDnsName(target)).toBe(name);
    expect(parseMeshDnsName(name)).toEqual(labels);
  });

  it.each([
    ['web.shop.monk', { runnable: 'web', namespace: 'shop' }],
    ['a.b.c.d.monk', undefined],
    ['shop.monk', undefined],
    ['web.shop.example', undefined],
    ['.shop.monk', undefined],
  ])('parses %s', (name, expected) => {
    expect(parseMeshDnsName(name)).toEqual(expected);
  });
});

describe('runnableMeshDnsName', () => {
  it.each([
    ['shop/web', undefined, 'web.shop.monk'],
    ['shop/web', 'nginx', 'nginx.web.shop.monk'],
    ['eu/shop/Web_Front', 'Main', 'main.web-front.eu-shop.monk'],
  ])('%s %s → %s, which parses back to the same labels', (path, container, name) => {
    expect(runnableMeshDnsName(path, container)).toBe(name);
    expect(parseMeshDnsName(name)).toBeDefined();
  });
});
