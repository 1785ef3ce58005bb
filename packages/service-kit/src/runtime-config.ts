import { ConfigOf, env, parseConfig } from './config';

/**
 * Settings every service shares (faults, shutdown, outbound resilience). startService checks them
 * at startup like a service's own configuration: a bad value stops it with one line naming it.
 */
export const RUNTIME_CONFIG = {
  /** flagd-format flag file; unset = no fault injection, the flag provider is not started. */
  FLAGS_FILE: env.optionalString(),
  /** How often the flag file is re-read; 0 = every 5 s. */
  FLAGS_POLL_MS: env.int(500, 0, 60_000),
  /** The crash, CPU-hog and memory-growth faults act only when this is true. */
  FAULTS_UNSAFE_ENABLED: env.bool(false),
  /** Ceiling of the memory-growth fault, so a forgotten flag cannot take the whole machine. */
  FAULT_MEMORY_MAX_MB: env.int(512, 1, 65_536),
  /** Upper bound of a graceful shutdown (drain + in-flight requests + telemetry flush). */
  SHUTDOWN_TIMEOUT_MS: env.int(10_000, 100, 600_000),
  /** Time between failing readiness and closing the listener, so load balancers notice first. */
  SHUTDOWN_DRAIN_MS: env.int(0, 0, 600_000),
  /** Retries of idempotent outbound calls after a connection failure or a 502/503/504. */
  HTTP_RETRIES: env.int(2, 0, 10),
  /** Consecutive failures that open an outbound circuit breaker. */
  HTTP_BREAKER_THRESHOLD: env.int(5, 1, 1000),
  /** How long an open breaker refuses calls before letting one trial call through. */
  HTTP_BREAKER_HALF_OPEN_MS: env.int(5000, 100, 600_000),
  /** Time a client has to send its request headers; past it, 408 and the connection closed. */
  HTTP_HEADERS_TIMEOUT_MS: env.int(10_000, 100, 600_000),
  /** Time a client has to send its whole request, body included (not smaller than the headers'). */
  HTTP_REQUEST_TIMEOUT_MS: env.int(30_000, 100, 3_600_000),
  /** How long an idle keep-alive connection stays open between requests. */
  HTTP_KEEPALIVE_TIMEOUT_MS: env.int(5_000, 100, 600_000),
  /** How much of a refused request body is read and discarded so its client can read the answer. */
  HTTP_DISCARD_MAX_BYTES: env.int(64 * 1024 * 1024, 0, 1024 * 1024 * 1024),
  /**
   * A second listener that answers only /healthy and /ready (the kubelet's and the image's probes).
   * A flood of new connections fills the main port's accept queue, and a probe's SYN there waits
   * for TCP's 1 s retransmit; on a port of its own it is accepted at once. Unset: probes use the main port.
   */
  PROBE_PORT: env.optionalPort(),
  /** Spans kept while the collector (or the edge ingress) is unreachable; past it the oldest are dropped and counted. */
  TELEMETRY_BUFFER_MAX_SPANS: env.int(20_000, 1, 1_000_000),
};

export type RuntimeConfig = ConfigOf<typeof RUNTIME_CONFIG>;

let cached: RuntimeConfig | undefined;

/** The shared settings, parsed once (startService parses them first, so a bad value exits there). */
export function runtimeConfig(): RuntimeConfig {
  cached ??= parseConfig(RUNTIME_CONFIG);
  return cached;
}
