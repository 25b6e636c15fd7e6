// Reads a V8 CPU profile (`.cpuprofile`, as written by `fleet-throughput.ts --cpu-prof` or `node --cpu-prof`) and
// prints where the time went: self time per function and per module (package or source file), and the idle,
// GC and program shares, as percentages of all samples.
//
//   npx tsx bench/cpu-profile-summary.ts <file.cpuprofile> [--top 25] [--callers writeBuffer]
//
// --callers NAME: the self time of the functions called NAME, by the chain of their three nearest callers
// outside Node's own modules.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

/** node_modules/<package> (scoped too), proxy/dist/<file>, or node:<internal>. */
function moduleOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg !== undefined) return pkg;
  const own = /\/(proxy\/dist\/.*)$/.exec(url)?.[1];
  if (own !== undefined) return own;
  return url.startsWith('node:') ? url : url.replace(/^.*\//, '');
}

/** Self time (µs) per node id: the time deltas of its samples (hitCount is not always filled in). */
function selfTimes(profile: Profile): Map<number, number> {
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, deltas[i + 1] ?? 0));
  }
  return selfUs;
}

const frameName = (node: ProfileNode): string => `${node.callFrame.functionName === '' ? '(anonymous)' : node.callFrame.functionName} ${moduleOf(node.callFrame.url, node.callFrame.functionName)}`;

/** Self time of the nodes named `name`, keyed by their three nearest callers outside node:* modules. */
function callers(profile: Profile, selfUs: Map<number, number>, name: string): Map<string, number> {
  const parent = new Map<number, ProfileNode>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const out = new Map<string, number>();
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0 || node.callFrame.functionName !== name) continue;
    const chain: string[] = [];
    for (let p = parent.get(node.id); p !== undefined && chain.length < 3; p = parent.get(p.id)) {
      const frame = frameName(byId.get(p.id) ?? p);
      if (!frame.includes(' node:')) chain.push(frame); // Node's own stream layers say little about who wrote
    }
    const key = chain.join(' ← ');
    out.set(key, (out.get(key) ?? 0) + us);
  }
  return out;
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args[0];
  if (file === undefined) throw new Error('usage: npx tsx bench/cpu-profile-summary.ts <file.cpuprofile> [--top N]');
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const selfUs = selfTimes(profile);
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byModule = new Map<string, number>();
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const module = moduleOf(url, functionName);
    const key = `${functionName === '' ? '(anonymous)' : functionName}  ${module}${url === '' ? '' : `:${lineNumber + 1}`}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byModule.set(module, (byModule.get(module) ?? 0) + us);
  }
  const pct = (us: number): string => `${((100 * us) / Math.max(1, totalUs)).toFixed(1).padStart(5)}%`;
  const print = (title: string, map: Map<string, number>): void => {
    console.log(`\n${title}`);
    for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${key}`);
  };
  console.log(`${file}: ${(totalUs / 1e6).toFixed(1)} s sampled, ${String(profile.samples?.length ?? 0)} samples`);
  print('self time by module', byModule);
  print('self time by function', byFunction);
  const callersAt = args.indexOf('--callers');
  const name = callersAt >= 0 ? args[callersAt + 1] : undefined;
  if (name !== undefined) print(`callers of ${name}`, callers(profile, selfUs, name));
}

main();
