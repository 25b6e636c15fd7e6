// CPU and memory of processes and of the machine, read from /proc (Linux), for the benchmarks.
import { readFileSync, readdirSync } from 'node:fs';
import { round, sum } from './samples.js';

const CLK_TCK = 100; // Linux USER_HZ: the unit of the times in /proc/<pid>/stat

/** The fields after `(comm)` of /proc/<pid>/stat: index 0 is field 3 (state), 1 ppid, 11 utime, 12 stime. */
export function statFields(pid: number | string): { comm: string; fields: string[] } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    return { comm: stat.slice(stat.indexOf('(') + 1, close), fields: stat.slice(close + 2).split(' ') };
  } catch {
    return undefined; // exited
  }
}

export function procCpuSeconds(pid: number | string): number | undefined {
  const stat = statFields(pid);
  return stat === undefined ? undefined : (Number(stat.fields[11]) + Number(stat.fields[12])) / CLK_TCK;
}

export function procRssMiB(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : round(Number(kb) / 1024, 1);
  } catch {
    return undefined;
  }
}

/** This process and its ancestors (npx, npm exec, tsx): the load generator's own wrappers. */
export function selfAndAncestors(): Set<number> {
  const result = new Set<number>();
  let pid = process.pid;
  while (pid > 1 && !result.has(pid)) {
    result.add(pid);
    pid = Number(statFields(pid)?.fields[1] ?? 0);
  }
  return result;
}

/** Name and CPU seconds of every process, to name the busiest other processes during a scenario. */
export function allProcesses(): Map<number, { comm: string; cpu: number }> {
  const result = new Map<number, { comm: string; cpu: number }>();
  for (const entry of readdirSync('/proc')) {
    const stat = /^\d+$/.test(entry) ? statFields(entry) : undefined;
    if (stat !== undefined) result.set(Number(entry), { comm: stat.comm, cpu: (Number(stat.fields[11]) + Number(stat.fields[12])) / CLK_TCK });
  }
  return result;
}

/** Busy and total CPU seconds of the machine (all cores), from the first line of /proc/stat. */
export function machineCpu(): { busy: number; total: number } {
  const ticks = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1, 9).map(Number);
  const total = sum(ticks);
  return { busy: (total - (ticks[3] ?? 0) - (ticks[4] ?? 0)) / CLK_TCK, total: total / CLK_TCK };
}

export interface CpuSnapshot {
  readonly at: number;
  readonly self: NodeJS.CpuUsage;
  readonly named: Map<string, number | undefined>;
  readonly machine: { busy: number; total: number };
  readonly processes: Map<number, { comm: string; cpu: number }>;
}

export interface CpuReport {
  /** CPU seconds over the interval: the load generator, each proxy, shard and Redis. */
  seconds: Record<string, number | undefined>;
  machine: { busyCpuSeconds: number; capacityCpuSeconds: number; otherProcessesCpuSeconds: number; busiestOthers: { pid: number; comm: string; cpuSeconds: number }[] };
}

export function cpuReport(before: CpuSnapshot, after: CpuSnapshot, ours: Set<number>): CpuReport {
  const seconds: Record<string, number | undefined> = {
    loadGenerator: round((after.self.user - before.self.user + after.self.system - before.self.system) / 1e6),
  };
  for (const [name, end] of after.named) {
    const start = before.named.get(name);
    seconds[name] = start === undefined || end === undefined ? undefined : round(end - start);
  }
  const busy = after.machine.busy - before.machine.busy;
  const busiestOthers = [...after.processes]
    .filter(([pid]) => !ours.has(pid))
    .map(([pid, p]) => ({ pid, comm: p.comm, cpuSeconds: round(p.cpu - (before.processes.get(pid)?.cpu ?? 0)) }))
    .filter((p) => p.cpuSeconds > 0.05)
    .sort((a, b) => b.cpuSeconds - a.cpuSeconds)
    .slice(0, 6);
  return {
    seconds,
    machine: {
      busyCpuSeconds: round(busy),
      capacityCpuSeconds: round(after.machine.total - before.machine.total),
      otherProcessesCpuSeconds: round(busy - sum(Object.values(seconds).map((s) => s ?? 0))),
      busiestOthers,
    },
  };
}
