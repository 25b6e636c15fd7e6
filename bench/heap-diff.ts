// What a proxy keeps per connection: compares two V8 heap snapshots (before and with N idle connections) by
// constructor name, and prints the objects and bytes added per connection (self sizes), largest first.
//
//   npx tsx bench/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> <connections> [--top 30]
//
// Snapshots: start the proxies with NODE_OPTIONS=--heapsnapshot-signal=SIGUSR2 and `kill -USR2 <pid>` (the
// file lands in the proxy's working directory).
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Self size and count per "type:name" (objects by constructor, strings, closures, arrays, code, …). */
function aggregate(file: string): Map<string, { count: number; bytes: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt] ?? 0] ?? '?';
    const rawName = snap.strings[snap.nodes[i + nameAt] ?? 0] ?? '?';
    const name = type === 'object' || type === 'closure' || type === 'native' ? rawName : '';
    const key = `${type}${name === '' ? '' : `:${name.slice(0, 60)}`}`;
    const entry = out.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snap.nodes[i + sizeAt] ?? 0;
    out.set(key, entry);
  }
  return out;
}

function main(): void {
  const [beforeFile, afterFile, countArg] = process.argv.slice(2);
  if (beforeFile === undefined || afterFile === undefined || countArg === undefined) throw new Error('usage: npx tsx bench/heap-diff.ts <before> <after> <connections> [--top N]');
  const topAt = process.argv.indexOf('--top');
  const top = topAt >= 0 ? Number(process.argv[topAt + 1]) : 30;
  const n = Number(countArg);
  const before = aggregate(beforeFile);
  const after = aggregate(afterFile);
  const rows = [...after].map(([key, a]) => {
    const b = before.get(key) ?? { count: 0, bytes: 0 };
    return { key, objects: (a.count - b.count) / n, bytes: (a.bytes - b.bytes) / n };
  });
  const total = rows.reduce((s, r) => s + r.bytes, 0);
  console.log(`heap (self sizes) added per connection: ${total.toFixed(0)} bytes over ${n} connections`);
  console.log('bytes/conn  objects/conn  type:constructor');
  for (const r of rows.sort((x, y) => y.bytes - x.bytes).slice(0, top)) console.log(`${r.bytes.toFixed(0).padStart(10)}  ${r.objects.toFixed(2).padStart(12)}  ${r.key}`);
}

main();
