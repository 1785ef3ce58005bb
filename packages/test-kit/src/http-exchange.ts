import net from 'node:net';

/** One HTTP/1.1 exchange on a raw socket (connection-flood and its probe thread). */
export interface Exchange {
  status: number;
  socket: net.Socket;
}

/**
 * Writes a GET and resolves with the status of the first answer; rejects with the socket error code
 * or 'timeout'. On a new connection, or on `reuse`, an open keep-alive one.
 */
export function get(host: string, port: number, path: string, keepAlive: boolean, timeoutMs: number, reuse?: net.Socket): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = reuse ?? net.connect({ host, port });
    let buf = '';
    const timer = setTimeout(() => fail(new Error('timeout')), timeoutMs);
    function fail(err: Error & { code?: string }) {
      clearTimeout(timer);
      socket.destroy();
      reject(new Error(err.code ?? err.message));
    }
    socket.on('error', fail);
    socket.on('close', () => fail(new Error(buf ? 'closed mid-answer' : 'closed before answering')));
    const send = () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`);
    if (reuse) send();
    else socket.once('connect', send);
    socket.on('data', (chunk: Buffer) => {
      buf += chunk.toString('latin1');
      const head = buf.indexOf('\r\n\r\n');
      if (head < 0) return;
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(buf.slice(0, head))?.[1] ?? 0);
      if (buf.length < head + 4 + length) return;
      clearTimeout(timer);
      socket.removeAllListeners('close');
      socket.removeAllListeners('data');
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      resolve({ status: Number(buf.slice(9, 12)), socket });
    });
  });
}
