import { existsSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';

/** The machine a run happened on, as `ptk profile` records it. */
export interface MachineInfo {
  cores: number;
  memory_bytes: number;
  cpu_model: string;
  gpu: boolean;
}

/** Describes this machine. A GPU counts when an NVIDIA device node exists. */
export function describeMachine(): MachineInfo {
  return {
    cores: availableParallelism(),
    memory_bytes: totalmem(),
    cpu_model: cpus()[0]?.model.trim() ?? 'unknown',
    gpu: existsSync('/dev/nvidia0'),
  };
}
