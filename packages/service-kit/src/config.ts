/**
 * Startup configuration from environment variables. Every value is checked once at startup; a bad one
 * stops the service with a single line that names the variable, before anything listens.
 */
export class ConfigError extends Error {}

export interface Field<T> {
  parse(name: string, raw: string | undefined): T;
  describe: string;
}

type Shape = Record<string, Field<unknown>>;
export type ConfigOf<S extends Shape> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

function bad(name: string, raw: string, expected: string): never {
  throw new ConfigError(`${name} must be ${expected} (got ${JSON.stringify(raw)})`);
}

export const env = {
  port(fallback: number): Field<number> {
    return {
      describe: `TCP port, default ${fallback}`,
      parse(name, raw) {
        if (raw === undefined || raw === '') return fallback;
        const n = Number(raw);
        if (!/^\d+$/.test(raw) || n < 1 || n > 65535) bad(name, raw, 'a TCP port between 1 and 65535');
        return n;
      },
    };
  },
  /** A TCP port that may be left unset (the feature it serves is then off). */
  optionalPort(): Field<number | undefined> {
    const port = env.port(0);
    return { describe: 'TCP port, optional', parse: (name, raw) => (raw === undefined || raw === '' ? undefined : port.parse(name, raw)) };
  },
  int(fallback: number, min: number, max: number): Field<number> {
    return {
      describe: `integer ${min}..${max}, default ${fallback}`,
      parse(name, raw) {
        if (raw === undefined || raw === '') return fallback;
        const n = Number(raw);
        if (!/^-?\d+$/.test(raw) || n < min || n > max) bad(name, raw, `an integer from ${min} to ${max}`);
        return n;
      },
    };
  },
  url(fallback: string): Field<string> {
    return {
      describe: `http(s) URL, default ${fallback}`,
      parse(name, raw) {
        const value = raw === undefined || raw === '' ? fallback : raw;
        let u: URL;
        try {
          u = new URL(value);
        } catch {
          return bad(name, value, 'an http(s) URL');
        }
        if (u.protocol !== 'http:' && u.protocol !== 'https:') bad(name, value, 'an http(s) URL');
        return value.replace(/\/+$/, '');
      },
    };
  },
  bool(fallback: boolean): Field<boolean> {
    return {
      describe: `true or false, default ${fallback}`,
      parse(name, raw) {
        if (raw === undefined || raw === '') return fallback;
        const v = raw.toLowerCase();
        if (v === 'true' || v === '1') return true;
        if (v === 'false' || v === '0') return false;
        return bad(name, raw, 'true or false');
      },
    };
  },
  oneOf<T extends string>(values: readonly T[], fallback?: T): Field<T> {
    return {
      describe: `one of ${values.join(', ')}${fallback ? `, default ${fallback}` : ''}`,
      parse(name, raw) {
        if ((raw === undefined || raw === '') && fallback !== undefined) return fallback;
        if (raw === undefined || raw === '') throw new ConfigError(`${name} is required: one of ${values.join(', ')}`);
        if (!(values as readonly string[]).includes(raw)) bad(name, raw, `one of ${values.join(', ')}`);
        return raw as T;
      },
    };
  },
  string(fallback: string, pattern?: RegExp): Field<string> {
    return {
      describe: `text, default ${JSON.stringify(fallback)}`,
      parse(name, raw) {
        const value = raw === undefined || raw === '' ? fallback : raw;
        if (pattern && !pattern.test(value)) bad(name, value, `text matching ${pattern}`);
        return value;
      },
    };
  },
  optionalString(): Field<string | undefined> {
    return { describe: 'optional text', parse: (_name, raw) => (raw === undefined || raw === '' ? undefined : raw) };
  },
  logLevel(fallback = 'info'): Field<string> {
    return env.oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], fallback as 'info');
  },
};

/** Parses the environment against a shape; throws ConfigError on the first bad variable. */
export function parseConfig<S extends Shape>(shape: S, source: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(shape)) out[name] = field.parse(name, source[name]);
  return out as ConfigOf<S>;
}

/** parseConfig for a process entry point: prints one line and exits 1 on a bad value. */
export function loadConfigOrExit<S extends Shape>(service: string, shape: S, check?: (config: ConfigOf<S>) => void): ConfigOf<S> {
  try {
    const config = parseConfig(shape);
    check?.(config);
    return config;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${service}: invalid configuration: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
