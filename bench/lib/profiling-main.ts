// A V8 CPU profile per proxy of a benchmark fleet.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Node 20 refuses --cpu-prof in NODE_OPTIONS and the fleet fixes the proxy's command line, so --cpu-prof
 * starts each proxy through a wrapper (written into the temporary state directory) that runs the V8
 * profiler via node:inspector and writes `<proxy id>.cpuprofile` when the proxy exits after SIGTERM.
 */
export function writeProfilingMain(stateDir: string, profDir: string): string {
  mkdirSync(profDir, { recursive: true });
  const file = join(stateDir, 'profiled-proxy-main.mjs');
  writeFileSync(file, [
    `import { Session } from 'node:inspector';`,
    `import { writeFileSync } from 'node:fs';`,
    `const session = new Session();`,
    `session.connect();`,
    `session.post('Profiler.enable');`,
    `session.post('Profiler.setSamplingInterval', { interval: 500 });`,
    `session.post('Profiler.start');`,
    `process.on('exit', () => session.post('Profiler.stop', (err, result) => {`,
    `  if (!err) writeFileSync(${JSON.stringify(profDir)} + '/' + (process.env.SHOAL_PROXY_ID ?? process.pid) + '.cpuprofile', JSON.stringify(result.profile));`,
    `}));`,
    `await import(${JSON.stringify(join(ROOT, 'proxy', 'dist', 'main.js'))});`,
    '',
  ].join('\n'));
  return file;
}
