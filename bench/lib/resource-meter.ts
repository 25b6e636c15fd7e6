// CPU and memory of one system under test over a scenario: CPU seconds of its processes between start() and
// stop(), the peak of their summed RSS (sampled every 200 ms), the load generator's own CPU, and what the rest
// of the machine used meanwhile (other engineers share the machine) with the load average.
import { loadavg } from 'node:os';
import { machineCpu, procCpuSeconds, procRssMiB } from './proc-stats.js';
import { round, sum } from './samples.js';

export interface ResourceReport {
  /** CPU seconds of each process of the system over the interval. */
  cpuSeconds: Record<string, number>;
  systemCpuSeconds: number;
  loadGeneratorCpuSeconds: number;
  /** Busy CPU seconds of the machine minus the system and the load generator. */
  otherCpuSeconds: number;
  capacityCpuSeconds: number;
  /** Peak of the summed RSS of the system's processes, sampled every 200 ms over the scenario. */
  peakRssMiB: number;
  rssMiBAtEnd: Record<string, number>;
  loadavgAtStart: number[];
}

export class ResourceMeter {
  private cpuBefore = new Map<string, number>();
  private selfBefore: NodeJS.CpuUsage = process.cpuUsage();
  private machineBefore = machineCpu();
  private peakRss = 0;
  private sampler: NodeJS.Timeout | undefined;
  private readonly loadavgAtStart = loadavg().map((x) => round(x));

  constructor(private readonly pids: ReadonlyMap<string, number>) {}

  /** Samples RSS from now on (call at the start of the scenario, before connecting). */
  watchRss(): this {
    this.sampleRss();
    this.sampler = setInterval(() => this.sampleRss(), 200);
    return this;
  }

  /** Starts the CPU interval. */
  start(): void {
    this.cpuBefore = new Map([...this.pids].map(([name, pid]) => [name, procCpuSeconds(pid) ?? 0]));
    this.selfBefore = process.cpuUsage();
    this.machineBefore = machineCpu();
  }

  stop(): ResourceReport {
    if (this.sampler !== undefined) clearInterval(this.sampler);
    this.sampleRss();
    const cpuSeconds = Object.fromEntries([...this.pids].map(([name, pid]) => [name, round((procCpuSeconds(pid) ?? 0) - (this.cpuBefore.get(name) ?? 0))]));
    const self = process.cpuUsage(this.selfBefore);
    const machine = machineCpu();
    const systemCpuSeconds = round(sum(Object.values(cpuSeconds)));
    const loadGeneratorCpuSeconds = round((self.user + self.system) / 1e6);
    return {
      cpuSeconds,
      systemCpuSeconds,
      loadGeneratorCpuSeconds,
      otherCpuSeconds: round(machine.busy - this.machineBefore.busy - systemCpuSeconds - loadGeneratorCpuSeconds),
      capacityCpuSeconds: round(machine.total - this.machineBefore.total),
      peakRssMiB: round(this.peakRss, 1),
      rssMiBAtEnd: Object.fromEntries([...this.pids].map(([name, pid]) => [name, procRssMiB(pid) ?? 0])),
      loadavgAtStart: this.loadavgAtStart,
    };
  }

  private sampleRss(): void {
    this.peakRss = Math.max(this.peakRss, sum([...this.pids.values()].map((pid) => procRssMiB(pid) ?? 0)));
  }
}
