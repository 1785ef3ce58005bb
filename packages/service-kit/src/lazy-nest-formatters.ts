// Loads @nestjs/common with its two date formatters built on first use instead of at load.
//
// NestJS's logger modules each build an Intl.DateTimeFormat when they load (for the timestamps of
// its console logger). The services log through pino and never format one, but building a
// formatter makes Node read ICU's locale data out of its binary: about 7 MiB of every service's
// RSS (docs/benchmarks.md, Memory). While @nestjs/common loads, Intl.DateTimeFormat is a function
// that returns a stand-in which builds the real formatter, with the same arguments, the first
// time anything is read from it. The real constructor is put back at once, so every other
// formatter in the process is the real one.
//
// This module must be imported before anything else imports @nestjs/common: index.ts imports it
// first, and the services import @meridian/service-kit before their own modules.

const RealDateTimeFormat = Intl.DateTimeFormat;

function LazyDateTimeFormat(...args: ConstructorParameters<typeof Intl.DateTimeFormat>): Intl.DateTimeFormat {
  let real: Intl.DateTimeFormat | undefined;
  const formatter = (): Intl.DateTimeFormat => (real ??= new RealDateTimeFormat(...args));
  return new Proxy(Object.create(RealDateTimeFormat.prototype) as Intl.DateTimeFormat, {
    get(_target, key) {
      const target = formatter();
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

Intl.DateTimeFormat = LazyDateTimeFormat as unknown as typeof Intl.DateTimeFormat;
try {
  require('@nestjs/common');
} finally {
  Intl.DateTimeFormat = RealDateTimeFormat;
}

export {};
