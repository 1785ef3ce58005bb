export const ms = (us: number) => (us / 1000 >= 100 ? (us / 1000).toFixed(0) : (us / 1000).toFixed(2));
export const tagValue = (tags: { key: string; value: unknown }[], key: string) => tags.find((t) => t.key === key)?.value;
export const isError = (tags: { key: string; value: unknown }[]) => tagValue(tags, 'error') === true || tagValue(tags, 'otel.status_code') === 'ERROR';
/** docs/runbooks/X.md → the console's copy of it. */
export const runbookHref = (url: string | undefined) => (url ? `/runbooks/${url.split('/').pop()}` : undefined);
