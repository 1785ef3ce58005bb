/**
 * The chart's `helm test`: GET each URL, print "ok URL" or "FAIL URL: why", and exit 1 unless
 * every one answered 200 within the timeout. It runs in the suite's own image (Node's fetch; the
 * node images have no shell tools), so the test needs no image of its own.
 *   node /app/packages/service-kit/dist/src/smoke.js URL...
 */
export async function check(url: string, timeoutMs = 10_000): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 200 ? undefined : `answered ${res.status}`;
  } catch (err) {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
}

export async function smoke(urls: string[], print: (line: string) => void): Promise<boolean> {
  let ok = urls.length > 0;
  for (const url of urls) {
    const why = await check(url);
    print(why === undefined ? `ok   ${url}` : `FAIL ${url}: ${why}`);
    if (why !== undefined) ok = false;
  }
  return ok;
}

if (require.main === module) {
  const urls = process.argv.slice(2);
  if (urls.length === 0) {
    process.stderr.write('smoke: name at least one URL\n');
    process.exit(2);
  }
  void smoke(urls, (line) => process.stdout.write(`${line}\n`)).then((ok) => process.exit(ok ? 0 : 1));
}
