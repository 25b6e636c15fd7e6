// The operator's module boundaries (research/aesthetics.md §9), checked on the sources: only two modules
// load @kubernetes/client-node at run time (it is ESM-only and jest on Node 20 cannot load it, so unit-tested
// modules may import its types only), and the pure layers import nothing with effects.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

const root = fileURLToPath(new URL('.', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [relative(root, path)] : [];
  });
}

/** Module specifiers a file imports at run time (type-only imports left out). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(join(root, file), 'utf8');
  return [...text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1] ?? '');
}

const files = sources(root);

describe('module boundaries', () => {
  it('loads @kubernetes/client-node at run time only in main.ts and kube/client-node-watch.ts', () => {
    const loaders = files.filter((f) => runtimeImports(f).includes('@kubernetes/client-node')).sort();
    expect(loaders).toEqual(['kube/client-node-watch.ts', 'main.ts']);
  });

  it('keeps api/ and resources/ pure: no controller, kube client, observability or I/O module', () => {
    const forbidden = /(^|\/)(controller|observability)\/|client-node|^(node:)?(fs|net|tls|http|https|child_process)$|^prom-client$|^pino$/;
    for (const file of files.filter((f) => f.startsWith('api/') || f.startsWith('resources/'))) {
      expect({ file, imports: runtimeImports(file).filter((s) => forbidden.test(s)) }).toEqual({ file, imports: [] });
    }
  });

  it('keeps the controller on the KubeClient interface, not its implementation', () => {
    for (const file of files.filter((f) => f.startsWith('controller/'))) {
      expect({ file, imports: runtimeImports(file).filter((s) => s.includes('client-node')) }).toEqual({ file, imports: [] });
    }
  });
});
