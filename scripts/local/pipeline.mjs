// @ts-check
// The telemetry pipeline as local processes: collector, Jaeger, Prometheus, Alertmanager, VictoriaLogs
// (the log store), Perses (the dashboards), nginx as the edge ingress, and the Meridian console over them. Configs come from observability/; only what differs locally (ports, paths, the
// token, a certificate made for this run) is generated into the run folder.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../lib/ensure.mjs';
import { PORTS } from './ports.mjs';

const H = '127.0.0.1';
const TOOLS_DIR = process.env.MERIDIAN_TOOLS_DIR ?? path.join(os.homedir(), '.cache/meridian/tools');
export const TOOLS_BIN = path.join(TOOLS_DIR, 'bin');
const OBS = path.join(ROOT, 'observability');

/** @typedef {import('./services.mjs').ProcessSpec} ProcessSpec */

/**
 * @param {string} runDir
 * @param {{ perses?: boolean }} [opts] perses: false leaves Perses out (npm start adds it once built)
 * @returns {{ specs: ProcessSpec[], token: string, cert: string, logsUrl: string, alertsFile: string, cloudEnv: Record<string,string>, edgeEnv: Record<string,string>, perses: () => ProcessSpec }}
 */
export function pipeline(runDir, { perses: withPerses = true } = {}) {
  const token = process.env.EDGE_OTLP_TOKEN || randomBytes(24).toString('hex');
  const { cert, key } = makeCertificate(runDir);
  const logsUrl = `http://${H}:${PORTS.victorialogs}`;
  const tool = (/** @type {string} */ name) => path.join(TOOLS_BIN, name);

  const collector = {
    name: 'collector',
    command: tool('otelcol'),
    args: ['--config', path.join(OBS, 'collector/config.yaml')],
    cwd: runDir,
    env: {
      COLLECTOR_OTLP_GRPC_ENDPOINT: `${H}:${PORTS.collectorGrpc}`,
      COLLECTOR_OTLP_HTTP_ENDPOINT: `${H}:${PORTS.collectorHttp}`,
      EDGE_OTLP_HOST: H,
      EDGE_OTLP_PORT: String(PORTS.collectorEdge),
      EDGE_OTLP_TOKEN: token,
      JAEGER_OTLP_ENDPOINT: `${H}:${PORTS.jaegerOtlpGrpc}`,
      PROM_EXPORTER_ENDPOINT: `${H}:${PORTS.collectorPrometheus}`,
      LOGS_STORE_OTLP_ENDPOINT: `${logsUrl}/insert/opentelemetry`,
      // Kept across restarts of the collector by the runner, so a crash loses no queued spans.
      COLLECTOR_QUEUE_DIR: path.join(runDir, 'collector-queue'),
      COLLECTOR_HEALTH_ENDPOINT: `${H}:${PORTS.collectorHealth}`,
      COLLECTOR_TELEMETRY_HOST: H,
      COLLECTOR_TELEMETRY_PORT: String(PORTS.collectorMetrics),
      COLLECTOR_LOG_LEVEL: 'warn',
      // The console's page sends its own spans to the OTLP/HTTP receiver.
      COLLECTOR_CORS_ORIGIN: `http://${H}:${PORTS.console}`,
    },
    readyUrl: `http://${H}:${PORTS.collectorHealth}/`,
    url: `OTLP grpc ${H}:${PORTS.collectorGrpc}, http http://${H}:${PORTS.collectorHttp}`,
  };
  const jaeger = {
    name: 'jaeger',
    command: tool('jaeger'),
    args: ['--config', path.join(OBS, 'jaeger/config.yaml')],
    cwd: runDir,
    env: {
      JAEGER_HOST: H,
      JAEGER_OTLP_GRPC_PORT: String(PORTS.jaegerOtlpGrpc),
      JAEGER_OTLP_HTTP_PORT: String(PORTS.jaegerOtlpHttp),
      JAEGER_QUERY_HTTP_PORT: String(PORTS.jaegerUi),
      JAEGER_QUERY_GRPC_PORT: String(PORTS.jaegerGrpc),
      JAEGER_HEALTH_PORT: String(PORTS.jaegerHealth),
      JAEGER_METRICS_PORT: String(PORTS.jaegerMetrics),
      JAEGER_LOG_LEVEL: 'warn',
    },
    readyUrl: `http://${H}:${PORTS.jaegerHealth}/status`,
    // Built from source, Jaeger has no UI (only a placeholder page at /): its query API is what it
    // offers here, and the console shows the traces.
    url: `http://${H}:${PORTS.jaegerUi}/api/services`,
    hint: '(query API only; the traces are in the console)',
  };
  const promConfig = path.join(runDir, 'prometheus.yml');
  writeFileSync(promConfig, prometheusConfig());
  const prometheus = {
    name: 'prometheus',
    command: tool('prometheus'),
    args: [
      `--config.file=${promConfig}`,
      `--storage.tsdb.path=${path.join(runDir, 'prometheus-data')}`,
      `--web.listen-address=${H}:${PORTS.prometheus}`,
      '--web.enable-lifecycle',
      // k6 (npm run load) writes its results here through remote write.
      '--web.enable-remote-write-receiver',
      '--log.level=warn',
    ],
    cwd: runDir,
    env: {},
    readyUrl: `http://${H}:${PORTS.prometheus}/-/ready`,
    url: `http://${H}:${PORTS.prometheus}`,
    // Shown beside the URL at start-up, not part of it (scripts read the URLs from --summary).
    hint: "(its UI: /targets, /rules, /alerts)",
  };
  // The repo's Alertmanager config as it is, but for the local webhook's port, which may be moved.
  const amConfig = path.join(runDir, 'alertmanager.yml');
  writeFileSync(
    amConfig,
    readFileSync(path.join(OBS, 'alertmanager/alertmanager.yml'), 'utf8').replaceAll('127.0.0.1:9095/', `${H}:${PORTS.alertWebhook}/`),
  );
  const alertmanager = {
    name: 'alertmanager',
    command: tool('alertmanager'),
    args: [
      `--config.file=${amConfig}`,
      `--storage.path=${path.join(runDir, 'alertmanager-data')}`,
      `--web.listen-address=${H}:${PORTS.alertmanager}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    cwd: runDir,
    env: {},
    readyUrl: `http://${H}:${PORTS.alertmanager}/-/ready`,
    url: `http://${H}:${PORTS.alertmanager}`,
  };
  // The log store. Its data lives in the run folder (emptied at each start); within a run it keeps
  // at most VICTORIALOGS_RETENTION (a day, its minimum) and VICTORIALOGS_MAX_DISK of disk.
  const victorialogs = {
    name: 'victorialogs',
    command: tool('victoria-logs'),
    args: [
      `-httpListenAddr=${H}:${PORTS.victorialogs}`,
      `-storageDataPath=${path.join(runDir, 'victorialogs-data')}`,
      `-retentionPeriod=${process.env.VICTORIALOGS_RETENTION || '1d'}`,
      `-retention.maxDiskSpaceUsageBytes=${process.env.VICTORIALOGS_MAX_DISK || '1GiB'}`,
      '-loggerLevel=WARN',
    ],
    cwd: runDir,
    env: {},
    readyUrl: `${logsUrl}/health`,
    url: `${logsUrl}/select/vmui/`,
    hint: '(its UI; LogsQL: trace_id:<id>)',
  };
  const perses = () => persesSpec(runDir, `http://${H}:${PORTS.prometheus}`);
  const nginxConf = path.join(runDir, 'nginx.conf');
  writeFileSync(
    nginxConf,
    fill(readFileSync(path.join(OBS, 'edge-ingress/nginx.conf.template'), 'utf8'), {
      RUN_DIR: runDir,
      EDGE_OTLP_TOKEN: token,
      LISTEN: `${H}:${PORTS.edgeIngress}`,
      TLS_CERT: cert,
      TLS_KEY: key,
      COLLECTOR_EDGE: `${H}:${PORTS.collectorEdge}`,
    }),
  );
  const ingressUrl = `https://${H}:${PORTS.edgeIngress}`;
  const edgeIngress = {
    name: 'edge-ingress',
    command: tool('nginx'),
    args: ['-c', nginxConf, '-p', runDir, '-e', 'stderr'],
    cwd: runDir,
    env: {},
    readyUrl: `${ingressUrl}/healthz`,
    ready: () => httpsOk(`${ingressUrl}/healthz`, readFileSync(cert)),
    url: `${ingressUrl}  (OTLP/HTTP from the edge, bearer token required)`,
  };

  // The console: the web app over the backends' APIs, and the one writer of fault switches besides
  // `npm run fault`.
  const consoleUrl = `http://${H}:${PORTS.console}`;
  const meridianConsole = {
    name: 'console',
    command: process.execPath,
    args: [path.join(ROOT, 'scripts/local/console-server.cjs')],
    cwd: runDir,
    env: {
      CONSOLE_HOST: H,
      CONSOLE_PORT: String(PORTS.console),
      JAEGER_URL: `http://${H}:${PORTS.jaegerUi}`,
      PROMETHEUS_URL: `http://${H}:${PORTS.prometheus}`,
      ALERTMANAGER_URL: `http://${H}:${PORTS.alertmanager}`,
      LOGS_URL: logsUrl,
      EDGE_URL: `http://${H}:${PORTS.edge}`,
      COLLECTOR_OTLP_HTTP_URL: `http://${H}:${PORTS.collectorHttp}`,
      FLAGS_FILE: path.join(runDir, 'flags.json'),
    },
    readyUrl: `${consoleUrl}/healthz`,
    url: consoleUrl,
    hint: '(traces with their logs, service graph, dashboards, faults and scenarios, alerts)',
  };

  const cloudEnv = {
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_LOGS_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://${H}:${PORTS.collectorHttp}`,
    OTEL_BSP_SCHEDULE_DELAY: '500',
    OTEL_BLRP_SCHEDULE_DELAY: '500',
  };
  // The edge runs "outside the cluster": its telemetry goes through the ingress, over TLS, with the token.
  const edgeEnv = {
    ...cloudEnv,
    OTEL_EXPORTER_OTLP_ENDPOINT: ingressUrl,
    OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer%20${token}`,
    NODE_EXTRA_CA_CERTS: cert,
  };
  return {
    specs: [victorialogs, collector, jaeger, prometheus, alertmanager, ...(withPerses ? [perses()] : []), edgeIngress, meridianConsole],
    token,
    cert,
    logsUrl,
    alertsFile: path.join(runDir, 'alerts.jsonl'),
    cloudEnv,
    edgeEnv,
    perses,
  };
}

/** Where Perses shows the suite's dashboards. */
export const persesUrl = () => `http://${H}:${PORTS.perses}/projects/meridian`;

/** Whether `scripts/tools/install.sh perses` has built Perses and its plugins. */
export function persesInstalled() {
  return existsSync(path.join(TOOLS_BIN, 'perses')) && existsSync(path.join(TOOLS_DIR, 'perses-plugins', 'cue-cache'));
}

/**
 * Perses with the suite's dashboards (observability/perses/dashboards, generated from the same
 * TypeScript as Grafana's) in the project `meridian`, over the local Prometheus through its proxy.
 * Its plugins (scripts/tools/install.sh perses) are copied into the run folder, where Perses writes
 * its list of them; their CUE schemas evaluate against the module cache beside them, with no registry.
 * @param {string} runDir @param {string} prometheusUrl @returns {ProcessSpec}
 */
function persesSpec(runDir, prometheusUrl) {
  const dir = path.join(runDir, 'perses');
  const provisioning = path.join(dir, 'provisioning');
  const installed = path.join(TOOLS_DIR, 'perses-plugins');
  mkdirSync(provisioning, { recursive: true });
  // Perses unzips plugin archives from here before it loads the plugins; none are used.
  mkdirSync(path.join(dir, 'plugins-archive'));
  cpSync(path.join(installed, 'plugins'), path.join(dir, 'plugins'), { recursive: true });
  for (const f of readdirSync(path.join(OBS, 'perses/provisioning'))) {
    writeFileSync(path.join(provisioning, f), fill(readFileSync(path.join(OBS, 'perses/provisioning', f), 'utf8'), { PROMETHEUS_URL: prometheusUrl }));
  }
  for (const f of readdirSync(path.join(OBS, 'perses/dashboards'))) cpSync(path.join(OBS, 'perses/dashboards', f), path.join(provisioning, `dashboard-${f}`));
  const config = {
    // A key of this run (32 characters) for the secrets Perses would store; it stores none here.
    security: { readonly: false, enable_auth: false, cookie: { secure: false }, encryption_key: randomBytes(16).toString('hex') },
    // Case-sensitive: otherwise Perses lower-cases the whole folder path when it lists resources,
    // and finds none where the run folder's path has a capital letter (a temporary folder's may).
    database: { file: { folder: path.join(dir, 'db'), extension: 'json', case_sensitive: true } },
    plugin: { path: path.join(dir, 'plugins'), archive_path: path.join(dir, 'plugins-archive') },
    // Read at start; the run folder is made anew at each start.
    provisioning: { interval: '1h', folders: [provisioning] },
  };
  const configFile = path.join(dir, 'config.yaml');
  writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n');
  return {
    name: 'perses',
    command: path.join(TOOLS_BIN, 'perses'),
    args: ['--config', configFile, `--web.listen-address=${H}:${PORTS.perses}`, '--log.level=warning'],
    cwd: dir,
    env: { CUE_CACHE_DIR: path.join(installed, 'cue-cache'), CUE_REGISTRY: 'none' },
    readyUrl: `http://${H}:${PORTS.perses}/api/v1/health`,
    url: persesUrl(),
    hint: '(the dashboards)',
  };
}

/** Prometheus scrape config for the local ports; rules and alerting come from observability/. */
function prometheusConfig() {
  /** @param {string} job @param {number} port @param {Record<string, unknown>} [extra] */
  const job = (job, port, extra = {}) => ({ job_name: job, static_configs: [{ targets: [`${H}:${port}`] }], ...extra });
  const config = {
    global: { scrape_interval: '5s', evaluation_interval: '5s' },
    rule_files: [path.join(OBS, 'prometheus/rules/*.yml')],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [`${H}:${PORTS.alertmanager}`] }] }] },
    scrape_configs: [
      job('service-a', PORTS.serviceA),
      job('service-b', PORTS.serviceB),
      job('preprocessing-edge', PORTS.edge),
      job('inference-ensemble', PORTS.ensemble),
      job('inference-efficientnetb0', PORTS.efficientnetb0),
      job('inference-mobilenetv2', PORTS.mobilenetv2),
      job('otel-collector', PORTS.collectorMetrics),
      // Span metrics and OTLP metrics; their job/instance labels name the service they describe.
      job('otel-collector-exporter', PORTS.collectorPrometheus, { honor_labels: true }),
      job('jaeger', PORTS.jaegerMetrics),
      job('alertmanager', PORTS.alertmanager),
      job('prometheus', PORTS.prometheus),
    ],
  };
  // JSON is valid YAML; no YAML library needed.
  return JSON.stringify(config, null, 2) + '\n';
}

/** A self-signed certificate for 127.0.0.1 and localhost, made fresh for each run. */
function makeCertificate(/** @type {string} */ runDir) {
  const cert = path.join(runDir, 'edge-ingress.crt');
  const key = path.join(runDir, 'edge-ingress.key');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '7', '-subj', '/CN=meridian-edge-ingress',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert,
  ], { stdio: 'ignore' });
  return { cert, key };
}

/** @param {string} template @param {Record<string, string>} values */
function fill(template, values) {
  return template.replace(/\$\{([A-Z_]+)\}/g, (m, name) => values[name] ?? m);
}

/** @param {string} url @param {Buffer} ca @returns {Promise<boolean>} */
function httpsOk(url, ca) {
  return new Promise((resolve) => {
    const req = https.get(url, { ca, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/** A fresh run folder; nginx workers (which drop root) must be able to write their temp files. */
export function prepareRunDir(/** @type {string} */ runDir) {
  mkdirSync(runDir, { recursive: true });
  for (const d of ['nginx-body', 'nginx-proxy', 'nginx-fastcgi', 'nginx-uwsgi', 'nginx-scgi']) {
    mkdirSync(path.join(runDir, d), { recursive: true });
    chmodSync(path.join(runDir, d), 0o777);
  }
}
