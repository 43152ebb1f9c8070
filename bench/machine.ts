/**
 * The machine a benchmark ran on, for its report: CPU model and count, RAM, Node, OS, and the load
 * average (the machines these run on are shared, so the load says how far to trust absolute
 * figures). Shared by the storage, failover and client benchmarks.
 */
import { arch, cpus, loadavg, platform, release, totalmem } from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cpuCount: number;
  totalMemoryGiB: number;
  node: string;
  os: string;
  /** 1, 5 and 15 minute load averages when described. */
  loadAverage: number[];
}

export function describeMachine(): MachineInfo {
  const cpuList = cpus();
  return {
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown CPU',
    cpuCount: cpuList.length,
    totalMemoryGiB: totalmem() / 1024 ** 3,
    node: process.version,
    os: `${platform()} ${release()} ${arch()}`,
    loadAverage: loadavg(),
  };
}

/** `AMD EPYC × 2 CPUs, 23.5 GiB RAM, Node v20.20.2, linux 6.18.0 x64, load average 1.20 / 0.90 / 0.70 (1/5/15 min)` */
export function describeMachineLine(machine: MachineInfo): string {
  return (
    `${machine.cpuModel} × ${machine.cpuCount} CPUs, ${machine.totalMemoryGiB.toFixed(1)} GiB RAM, ` +
    `Node ${machine.node}, ${machine.os}, load average ${machine.loadAverage.map((l) => l.toFixed(2)).join(' / ')} (1/5/15 min)`
  );
}
