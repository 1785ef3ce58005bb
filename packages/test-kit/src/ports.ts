import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * Ports handed out here stay reserved across processes for a while: test files run two at a time,
 * and a port one of them picked and released before its server bound it could otherwise be picked
 * again by the other (the kernel hands a just-freed port out again). A reservation is a directory
 * named after the port, made atomically; one older than RESERVATION_MS is free again.
 */
export const RESERVATIONS_DIR = path.join(os.tmpdir(), 'meridian-test-ports');
const RESERVATION_MS = 30 * 60_000;

/** Reserves `port` for this process; false when another caller holds it (and not for too long). */
export function reservePort(port: number): boolean {
  const dir = path.join(RESERVATIONS_DIR, String(port));
  mkdirSync(RESERVATIONS_DIR, { recursive: true });
  try {
    mkdirSync(dir);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  try {
    if (Date.now() - statSync(dir).mtimeMs < RESERVATION_MS) return false;
    // Stale: take it over (rmdir + mkdir, so that of two takers only one wins the mkdir).
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

/** Reservations past their time, removed now and then so the folder does not grow without end. */
function sweep(): void {
  let names: string[];
  try {
    names = readdirSync(RESERVATIONS_DIR);
  } catch {
    return;
  }
  for (const n of names) {
    try {
      if (Date.now() - statSync(path.join(RESERVATIONS_DIR, n)).mtimeMs >= RESERVATION_MS) rmSync(path.join(RESERVATIONS_DIR, n), { recursive: true, force: true });
    } catch {
      // Another process swept it first.
    }
  }
}

function listen(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

const close = (s: net.Server) => new Promise<void>((done) => s.close(() => done()));

/**
 * `count` distinct TCP ports that were free on 127.0.0.1 a moment ago and that no other test process
 * was given in the last RESERVATION_MS. All are held open at once while they are picked.
 */
export async function freePorts(count: number): Promise<number[]> {
  if (Math.random() < 0.05) sweep();
  const held: net.Server[] = [];
  const taken: net.Server[] = [];
  try {
    while (held.length < count) {
      const srv = await listen();
      if (reservePort((srv.address() as net.AddressInfo).port)) held.push(srv);
      else taken.push(srv); // kept open until the end, so the kernel offers another port next
    }
    return held.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all([...held, ...taken].map(close));
  }
}

/** A TCP port that was free on 127.0.0.1 a moment ago, reserved as freePorts does. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0];
}
