// @ts-check
// The memory the local stack uses: the resident set of every process `npm start` runs and of their
// children (nginx's workers), from one `ps` listing, in MiB.
import { execFileSync } from 'node:child_process';

/** @param {number[]} pids @returns {{ mib: number, processes: number }} */
export function treeRss(pids) {
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
  let kib = 0;
  for (const pid of wanted) kib += all.get(pid)?.kib ?? 0;
  return { mib: kib / 1024, processes: wanted.size };
}
