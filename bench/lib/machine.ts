/** What a benchmark ran on, recorded with every result (a busy or small machine changes every number). */
import os from 'node:os';

export interface MachineInfo {
  cpus: number;
  model: string;
  node: string;
  platform: string;
  arch: string;
  totalMemGb: number;
  /** 1/5/15-minute load averages when the run started. */
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    model: cpus[0]?.model?.trim() ?? 'unknown',
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    totalMemGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    loadAverage: os.loadavg().map((n) => Math.round(n * 100) / 100),
  };
}
