import { useEffect, useState } from 'preact/hooks';

/** Hash routes (#/traces, #/trace/<id>, #/faults, #/alerts, #/graph): plain links, no server routes. */
export function useRoute(): string[] {
  const parse = () => (location.hash.replace(/^#\/?/, '') || 'traces').split('/').map(decodeURIComponent);
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const on = () => setRoute(parse());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export const go = (path: string) => {
  location.hash = `#/${path}`;
};

/** Re-runs `fn` every `ms` while the view is shown. */
export function usePoll(fn: () => void | Promise<void>, ms: number, deps: unknown[] = []): void {
  useEffect(() => {
    let stopped = false;
    const tick = async () => {
      if (stopped) return;
      await fn();
      if (!stopped) timer = setTimeout(tick, ms);
    };
    let timer = setTimeout(tick, 0);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, deps);
}
