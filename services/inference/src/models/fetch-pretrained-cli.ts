import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Bakes pretrained ONNX files into the inference image at build time (services/inference/Dockerfile),
 * never when the service runs:
 *   node dist/src/models/fetch-pretrained-cli.js DIR
 * With PRETRAINED=true, downloads MODEL_URL_<ROLE> for each role that has one into DIR/<role>.onnx,
 * checked against MODEL_SHA256_<ROLE> when given. Without PRETRAINED=true it does nothing.
 */
export const ROLES = ['mobilenetv2', 'efficientnetb0'] as const;

export interface Wanted {
  role: (typeof ROLES)[number];
  url: string;
  sha256?: string;
}

/** The downloads the environment asks for; throws when PRETRAINED=true names none. */
export function wantedModels(env: NodeJS.ProcessEnv): Wanted[] {
  if (env.PRETRAINED !== 'true') return [];
  const wanted = ROLES.flatMap((role) => {
    const url = env[`MODEL_URL_${role.toUpperCase()}`];
    return url ? [{ role, url, sha256: env[`MODEL_SHA256_${role.toUpperCase()}`] || undefined }] : [];
  });
  if (wanted.length === 0) throw new Error('PRETRAINED=true needs MODEL_URL_MOBILENETV2 and/or MODEL_URL_EFFICIENTNETB0');
  return wanted;
}

/** Downloads each file (60 s per file at most) and checks its digest before writing it. */
export async function fetchPretrained(dir: string, wanted: Wanted[], fetchFn: typeof fetch = fetch): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  for (const { role, url, sha256 } of wanted) {
    const res = await fetchFn(url, { redirect: 'follow', signal: AbortSignal.timeout(60_000) });
    if (!res.ok) throw new Error(`${role}: GET ${url} answered ${res.status}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (sha256 && digest !== sha256.toLowerCase()) throw new Error(`${role}: sha256 ${digest}, expected ${sha256}`);
    writeFileSync(path.join(dir, `${role}.onnx`), bytes);
    lines.push(`${role}: ${url} (${bytes.length} bytes, sha256 ${digest})`);
  }
  return lines;
}

if (require.main === module) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: fetch-pretrained-cli DIR\n');
    process.exit(2);
  }
  (async () => {
    mkdirSync(dir, { recursive: true });
    for (const line of await fetchPretrained(dir, wantedModels(process.env))) console.log(line);
  })().catch((err: Error) => {
    console.error(err.message);
    process.exit(1);
  });
}
