// @ts-check
// The memory the local stack uses: every process `npm start` runs and their children (nginx's
// workers), from one `ps` listing, in MiB. RSS counts a page shared by several processes (the Node
// binary's code, mapped by each Node service) once per process; PSS counts it once in all, split
// between them, so the PSS total is the memory the stack takes together.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** @param {number} pid Pss of /proc/<pid>/smaps_rollup in KiB, NaN when it cannot be read. */
function pssKiB(pid) {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** @param {number[]} pids @returns {{ rssMiB: number, pssMiB: number, processes: number }} pssMiB NaN where the kernel gives no PSS */
export function treeMemory(pids) {
  /** @type {Map<number, { ppid: number, kib: number }>} */
  const all = new Map();
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,rss='], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    const [pid, ppid, kib] = line.trim().split(/\s+/).map(Number);
    if (pid) all.set(pid, { ppid, kib });
  }
  const wanted = new Set(pids.filter((p) => all.has(p)));
  // Add children until none is new: ps lists parents and children in any order.
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, p] of all) {
      if (!wanted.has(pid) && wanted.has(p.ppid)) {
        wanted.add(pid);
        grew = true;
      }
    }
  }
  let rss = 0;
  let pss = 0;
  for (const pid of wanted) {
    rss += all.get(pid)?.kib ?? 0;
    pss += pssKiB(pid);
  }
  return { rssMiB: rss / 1024, pssMiB: pss / 1024, processes: wanted.size };
}
