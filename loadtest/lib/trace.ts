// W3C trace context and baggage on every request, so each load request starts its own sampled trace
// and the services (which copy `meridian.*` baggage onto their spans) mark it as synthetic in Jaeger.
import { TESTID } from './env.ts';

export const BAGGAGE = `meridian.synthetic=true,meridian.loadtest=${encodeURIComponent(TESTID)}`;

function hex(chars: number): string {
  let out = '';
  while (out.length < chars) out += Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return out.slice(0, chars);
}

/** A random id that is not all zeros (an all-zero id makes the whole header invalid). */
function id(chars: number): string {
  for (;;) {
    const value = hex(chars);
    if (/[^0]/.test(value)) return value;
  }
}

export interface TraceHeaders {
  traceId: string;
  headers: Record<string, string>;
}

/** New trace and span ids, sampled flag 01. */
export function traceHeaders(extra: Record<string, string> = {}): TraceHeaders {
  const traceId = id(32);
  return { traceId, headers: { traceparent: `00-${traceId}-${id(16)}-01`, baggage: BAGGAGE, ...extra } };
}
