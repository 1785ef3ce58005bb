/** Routes that are polled by probes and scrapers: never traced, never counted as traffic. */
export const UNTRACED_PATHS: ReadonlySet<string> = new Set(['/healthy', '/ready', '/metrics']);

export function isUntracedPath(url: string | undefined): boolean {
  if (!url) return false;
  const q = url.indexOf('?');
  return UNTRACED_PATHS.has(q === -1 ? url : url.slice(0, q));
}
