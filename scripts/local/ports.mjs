// @ts-check
// Local ports of DESIGN.md; each can be overridden by its environment variable.

/** @param {string} name @param {number} fallback */
function port(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 65535) {
    process.stderr.write(`${name} must be a TCP port between 1 and 65535 (got ${JSON.stringify(raw)})\n`);
    process.exit(1);
  }
  return n;
}

import net from 'node:net';

/** The variable that moves each port, for error messages. */
const VARIABLES = /** @type {Record<string, string>} */ ({});

/** @param {string} name @param {number} fallback */
function declared(name, fallback) {
  const value = port(name, fallback);
  VARIABLES[value] = name;
  return value;
}

export const PORTS = {
  serviceA: declared('SERVICE_A_PORT', 8080),
  serviceB: declared('SERVICE_B_PORT', 8081),
  edge: declared('EDGE_PORT', 5010),
  ensemble: declared('ENSEMBLE_PORT', 8000),
  efficientnetb0: declared('EFFICIENTNETB0_PORT', 8001),
  mobilenetv2: declared('MOBILENETV2_PORT', 8002),
  collectorGrpc: declared('COLLECTOR_GRPC_PORT', 4317),
  collectorHttp: declared('COLLECTOR_HTTP_PORT', 4318),
  collectorEdge: declared('COLLECTOR_EDGE_PORT', 4319),
  collectorMetrics: declared('COLLECTOR_METRICS_PORT', 8888),
  collectorPrometheus: declared('COLLECTOR_PROMETHEUS_PORT', 8889),
  collectorHealth: declared('COLLECTOR_HEALTH_PORT', 13133),
  edgeIngress: declared('EDGE_INGRESS_PORT', 4443),
  jaegerUi: declared('JAEGER_UI_PORT', 16686),
  jaegerGrpc: declared('JAEGER_QUERY_GRPC_PORT', 16685),
  jaegerOtlpGrpc: declared('JAEGER_OTLP_GRPC_PORT', 14317),
  jaegerOtlpHttp: declared('JAEGER_OTLP_HTTP_PORT', 14318),
  jaegerHealth: declared('JAEGER_HEALTH_PORT', 14133),
  jaegerMetrics: declared('JAEGER_METRICS_PORT', 14269),
  prometheus: declared('PROMETHEUS_PORT', 9090),
  alertmanager: declared('ALERTMANAGER_PORT', 9093),
  victorialogs: declared('VICTORIALOGS_PORT', 9428),
  console: declared('CONSOLE_PORT', 3030),
  perses: declared('PERSES_PORT', 3040),
  alertWebhook: declared('ALERT_WEBHOOK_PORT', 9095),
};

/** @param {number} p @returns {Promise<boolean>} */
function isFree(p) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(p, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * Names every port that is already taken, with the variable that moves it, before anything starts.
 * @param {number[]} ports
 * @returns {Promise<string[]>}
 */
export async function busyPorts(ports) {
  const busy = [];
  for (const p of ports) if (!(await isFree(p))) busy.push(`127.0.0.1:${p} is in use (move it with ${VARIABLES[p] ?? 'its variable'})`);
  return busy;
}
