import { readFileSync } from 'node:fs';

/** Resident set size of a process in MiB (VmRSS of /proc/<pid>/status); NaN when it is gone. */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Proportional set size in MiB (Pss of /proc/<pid>/smaps_rollup): each page a process shares with
 * others counted as its share. RSS counts a shared page in every process that maps it, so the RSS
 * of several Node processes adds up the Node binary's code once per process; their PSS adds up to
 * the memory they take together. NaN when the process is gone or the kernel has no smaps_rollup.
 */
export function pssMiB(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}
