// @ts-check
// Turns a service's pino JSON line into one readable line; anything else passes through unchanged.

const LEVEL_COLOURS = /** @type {Record<string, string>} */ ({
  trace: '\x1b[90m', debug: '\x1b[36m', info: '\x1b[32m', warn: '\x1b[33m', error: '\x1b[31m', fatal: '\x1b[35m',
});
// Nest's start-up chatter (modules loaded, routes mapped) says nothing a user needs.
const QUIET_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);
const SKIP_KEYS = new Set(['level', 'time', 'service', 'msg', 'context', 'req', 'res', 'trace_id', 'span_id', 'trace_flags', 'responseTime', 'pid', 'hostname']);

/**
 * @param {string} line
 * @param {boolean} colour
 * @returns {string | undefined} undefined when the line is not worth showing
 */
export function formatLogLine(line, colour) {
  if (!line.startsWith('{')) return line;
  /** @type {Record<string, any>} */
  let rec;
  try {
    rec = JSON.parse(line);
  } catch {
    return line;
  }
  if (rec.level === 'info' && QUIET_CONTEXTS.has(rec.context)) return undefined;
  const time = typeof rec.time === 'string' ? rec.time.slice(11, 19) : '';
  const level = String(rec.level ?? '').toUpperCase().padEnd(5);
  const lc = colour ? (LEVEL_COLOURS[rec.level] ?? '') : '';
  const reset = colour ? '\x1b[0m' : '';
  const dim = colour ? '\x1b[2m' : '';
  let msg = String(rec.msg ?? '');
  if (rec.req && rec.res) msg = `${rec.req.method} ${rec.req.url} → ${rec.res.statusCode} ${rec.responseTime ?? '?'}ms`;
  const extra = Object.entries(rec)
    .filter(([k]) => !SKIP_KEYS.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const trace = rec.trace_id ? ` ${dim}trace=${rec.trace_id}${reset}` : '';
  return `${dim}${time}${reset} ${lc}${level}${reset} ${msg}${extra ? ` ${dim}${extra}${reset}` : ''}${trace}`;
}
