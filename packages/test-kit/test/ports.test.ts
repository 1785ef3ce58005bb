import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { utimesSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, freePorts, reservePort, RESERVATIONS_DIR } from '../src/ports';

test('freePorts gives distinct ports that can be bound on 127.0.0.1', async () => {
  const ports = await freePorts(20);
  assert.equal(new Set(ports).size, 20);
  for (const p of ports) {
    const srv = net.createServer();
    await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(p, '127.0.0.1', () => resolve()));
    await new Promise<void>((done) => srv.close(() => done()));
  }
});

test('a port handed out is not handed out again, also not to another process', async () => {
  const mine = new Set(await freePorts(50));
  // Another process asks at the same moment as this one asks again.
  const script = `require(${JSON.stringify(path.join(__dirname, '../src/ports.js'))}).freePorts(200).then((p) => process.stdout.write(JSON.stringify(p)))`;
  const child = spawn(process.execPath, ['-e', script]);
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d));
  const again = await freePorts(200);
  await new Promise((done) => child.on('exit', done));
  const theirs: number[] = JSON.parse(out);
  for (const p of again) assert.ok(!mine.has(p), `port ${p} handed out twice in this process`);
  for (const p of theirs) assert.ok(!mine.has(p) && !again.includes(p), `port ${p} handed out to two processes`);
});

test('a reservation holds until it is past its time, then it is free again', async () => {
  const p = await freePort();
  assert.equal(reservePort(p), false, 'a port just handed out stays reserved');
  const old = new Date(Date.now() - 3_600_000);
  utimesSync(path.join(RESERVATIONS_DIR, String(p)), old, old);
  assert.equal(reservePort(p), true, 'an hour-old reservation is taken over');
  assert.equal(reservePort(p), false, 'and then held again');
});
