/**
 * The images' HEALTHCHECK: exit 0 when GET http://127.0.0.1:<port>/healthy answers 200 within 3 s,
 * 1 otherwise. Node's own fetch: the node images have no curl or wget.
 *   node /app/packages/service-kit/dist/src/healthcheck.js [PORT | ROLE=PORT ...]
 * The port is $PROBE_PORT when set (the probe listener, which a connection flood does not
 * delay), else $PORT; else the argument, or the one given for $ROLE (the inference image,
 * whose three roles listen on different ports).
 */
export function healthPort(env: NodeJS.ProcessEnv, args: string[]): number | undefined {
  if (env.PROBE_PORT) return Number(env.PROBE_PORT);
  if (env.PORT) return Number(env.PORT);
  for (const arg of args) {
    const [role, port] = arg.includes('=') ? arg.split('=') : [undefined, arg];
    if (role === undefined || role === env.ROLE) return Number(port);
  }
  return undefined;
}

export async function healthy(port: number, timeoutMs = 3000): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthy`, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok;
  } catch {
    return false;
  }
}

if (require.main === module) {
  const port = healthPort(process.env, process.argv.slice(2));
  if (port === undefined || !Number.isInteger(port)) {
    process.stderr.write('healthcheck: no port: set PROBE_PORT or PORT, or pass PORT or ROLE=PORT arguments\n');
    process.exit(1);
  }
  void healthy(port).then((ok) => process.exit(ok ? 0 : 1));
}
