// @ts-check
// `npm start`: the whole suite and its telemetry pipeline as local processes, with readable prefixed
// output. Waits until everything is ready, prints the URLs; Ctrl-C stops it all.
import { spawn } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import readline from 'node:readline';
import path from 'node:path';
import { ensureAll, ensurePinnedNode, LOCAL_RUN_TOOLS, ROOT, step } from './lib/ensure.mjs';
import { startAlertSink } from './local/alert-sink.mjs';
import { treeMemory } from './local/memory.mjs';
import { persesInstalled, persesUrl, pipeline, prepareRunDir } from './local/pipeline.mjs';
import { busyPorts, PORTS } from './local/ports.mjs';
import { serviceSpecs, startWaves } from './local/services.mjs';
import { Supervisor } from './local/supervisor.mjs';

const argv = process.argv.slice(2);
const flag = (/** @type {string} */ name) => argv.includes(name);
const option = (/** @type {string} */ name) => {
  const i = argv.indexOf(name);
  return i === -1 ? undefined : argv[i + 1];
};
if (flag('--help')) {
  process.stdout.write(`npm start [-- options]
  Runs the telemetry pipeline (OpenTelemetry Collector, Jaeger, Prometheus, Alertmanager,
  VictoriaLogs, nginx as the edge ingress), the Meridian console and the six services as local
  processes on 127.0.0.1, waits until all are ready and prints the URLs. Ctrl-C stops everything.

  --no-pipeline     services only, tracing off (no tools needed)
  --json            print the services' raw JSON log lines
  --no-ensure       skip install/build checks (already done)
  --summary FILE    write the URLs, ports and token as JSON to FILE once ready

  Ports (defaults from DESIGN.md) can be moved with SERVICE_A_PORT, SERVICE_B_PORT, EDGE_PORT,
  ENSEMBLE_PORT, EFFICIENTNETB0_PORT, MOBILENETV2_PORT, COLLECTOR_GRPC_PORT, COLLECTOR_HTTP_PORT,
  COLLECTOR_EDGE_PORT, COLLECTOR_METRICS_PORT, COLLECTOR_PROMETHEUS_PORT, COLLECTOR_HEALTH_PORT,
  EDGE_INGRESS_PORT, JAEGER_UI_PORT, JAEGER_QUERY_GRPC_PORT, JAEGER_OTLP_GRPC_PORT,
  JAEGER_OTLP_HTTP_PORT, JAEGER_HEALTH_PORT, JAEGER_METRICS_PORT, PROMETHEUS_PORT, ALERTMANAGER_PORT,
  VICTORIALOGS_PORT, CONSOLE_PORT, ALERT_WEBHOOK_PORT (the local Alertmanager webhook sink, which prints alerts and keeps them in alerts.jsonl).
  FAULTS_UNSAFE_ENABLED=false keeps the crash, CPU-hog and memory-growth faults off (default: on
  locally; flip faults with npm run fault).
  VICTORIALOGS_RETENTION (default 1d) and VICTORIALOGS_MAX_DISK (default 1GiB) bound the log store,
  whose data, like the rest of the run, is emptied at each start.
  EDGE_OTLP_TOKEN sets the edge ingress token (default: random per run). MERIDIAN_RUN_DIR is where
  generated configs and data go (default .cache/local, emptied at each start).
`);
  process.exit(0);
}

// The Node the images run (versions.env), fetched where this machine's is older.
await ensurePinnedNode();
const withPipeline = !flag('--no-pipeline');
// Perses (the dashboards) is the last tool to build on a first run: it is built once the rest of the
// stack is ready, and joins it then, so the first start is not the longer for it.
const persesReady = persesInstalled();
const persesLater = withPipeline && !flag('--no-ensure') && !persesReady;
if (!flag('--no-ensure')) await ensureAll({ tools: withPipeline && LOCAL_RUN_TOOLS.filter((t) => !(persesLater && t === 'perses')) });
const started = Date.now();

const SERVICE_PORT_KEYS = ['serviceA', 'serviceB', 'edge', 'ensemble', 'efficientnetb0', 'mobilenetv2'];
const wanted = Object.entries(PORTS)
  .filter(([key]) => withPipeline || SERVICE_PORT_KEYS.includes(key))
  .map(([, p]) => p);
const busy = await busyPorts(wanted);
if (busy.length) {
  process.stderr.write(`Cannot start: ${busy.length} port(s) taken; is another Meridian still running?\n  ${busy.join('\n  ')}\n`);
  process.exit(1);
}

const runDir = path.resolve(process.env.MERIDIAN_RUN_DIR ?? path.join(ROOT, '.cache/local'));
rmSync(runDir, { recursive: true, force: true });
prepareRunDir(runDir);
// The services watch a copy of the fault flags in the run folder; `npm run fault` edits that copy.
const flagsFile = path.join(runDir, 'flags.json');
copyFileSync(path.join(ROOT, 'observability/flags/flags.json'), flagsFile);
const faultEnv = { FLAGS_FILE: flagsFile, FAULTS_UNSAFE_ENABLED: process.env.FAULTS_UNSAFE_ENABLED ?? 'true' };

const pipe = withPipeline ? pipeline(runDir, { perses: persesReady }) : undefined;
const specs = [
  ...(pipe?.specs ?? []),
  ...serviceSpecs(pipe?.cloudEnv ?? { OTEL_TRACES_EXPORTER: 'none' }, pipe?.edgeEnv, faultEnv),
];
const sup = new Supervisor({
  colour: process.stdout.isTTY === true && !process.env.NO_COLOR,
  rawJson: flag('--json'),
  width: Math.max(...specs.map((s) => s.name.length)),
});

let shuttingDown = false;
/** @type {import('node:child_process').ChildProcess | undefined} The first run's Perses build, stopped with the stack. */
let persesBuild;
/** @param {number} code */
async function shutdown(code) {
  if (shuttingDown) return;
  shuttingDown = true;
  step('stopping (SIGTERM, the services first, then the pipeline)');
  persesBuild?.kill('SIGTERM');
  // The reverse of the start order: what calls stops before what it calls, the collector last but
  // for its backends, so the services' last spans are still exported.
  await sup.stopAll(startWaves(specs).map((wave) => wave.map((spec) => spec.name)).reverse());
  step('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
sup.onUnexpectedExit = (name, code) => {
  process.stderr.write(`\n${name} exited (code ${code}); stopping the stack\n`);
  void shutdown(1);
};

if (pipe) {
  const sink = await startAlertSink(PORTS.alertWebhook, pipe.alertsFile, (text) => sup.print('alerts', text));
  sink.unref();
}
step(`starting ${specs.length} processes`);
try {
  // Waves in dependency order: the pipeline first, then each service once what it calls is ready.
  for (const wave of startWaves(specs)) {
    for (const spec of wave) sup.start(spec);
    await Promise.all(wave.map((spec) => sup.waitReady(spec, 60_000)));
  }
} catch (err) {
  process.stderr.write(`\n${err instanceof Error ? err.message : err}\n`);
  await shutdown(1);
}

/** install.sh perses, then Perses started with the rest; its output prefixed with its name. */
function buildAndStartPerses() {
  if (!pipe) return;
  sup.print('perses', 'building Perses and its plugins (first run only, about 3 minutes); it joins the stack when built');
  const child = spawn('bash', [path.join(ROOT, 'scripts/tools/install.sh'), 'perses'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  persesBuild = child;
  for (const stream of [child.stdout, child.stderr]) readline.createInterface({ input: stream }).on('line', (line) => sup.print('perses', line));
  child.on('exit', async (code) => {
    persesBuild = undefined;
    if (shuttingDown) return;
    if (code !== 0) return sup.print('perses', `not built (install.sh perses exited ${code}): the dashboards are still drawn by the console`);
    const spec = pipe.perses();
    specs.push(spec);
    sup.start(spec);
    try {
      await sup.waitReady(spec, 60_000);
      sup.print('perses', `ready: ${spec.url}  ${spec.hint ?? ''}`);
    } catch (err) {
      sup.print('perses', `${err instanceof Error ? err.message : err}`);
    }
  });
}

const seconds = (Date.now() - started) / 1000;
const memory = treeMemory(sup.pids());
const url = (/** @type {string} */ name) => specs.find((s) => s.name === name)?.url ?? '';
const rows = specs.map((s) => `  ${s.name.padEnd(26)} ${s.url ?? ''}${s.hint ? `  ${s.hint}` : ''}`);
if (pipe && !persesReady) {
  const note = persesLater ? `${persesUrl()}  (the dashboards; being built on this first run, about 3 minutes)` : 'not installed (scripts/tools/install.sh perses); the console draws the dashboards';
  rows.splice(specs.findIndex((s) => s.name === 'alertmanager') + 1, 0, `  ${'perses'.padEnd(26)} ${note}`);
}
const summary = {
  readySeconds: seconds,
  // The memory of every process it runs (and their children) at that moment: resident, and
  // proportional (shared pages counted once; null where the kernel gives no PSS).
  rssMiB: Math.round(memory.rssMiB),
  pssMiB: Number.isFinite(memory.pssMiB) ? Math.round(memory.pssMiB) : null,
  processes: memory.processes,
  runDir,
  ports: PORTS,
  urls: Object.fromEntries(specs.map((s) => [s.name, s.url])),
  edgeOtlpToken: pipe?.token,
  edgeIngressCert: pipe?.cert,
  logsUrl: pipe?.logsUrl,
  alertsFile: pipe?.alertsFile,
  pipeline: withPipeline,
  flagsFile,
};
/** @param {{ rssMiB: number, pssMiB: number, processes: number }} m */
function memoryLine(m) {
  const mib = (/** @type {number} */ x) => Math.round(x).toLocaleString('en');
  const pss = Number.isFinite(m.pssMiB) ? `; ${mib(m.pssMiB)} MiB PSS, which counts the pages they share once` : '';
  return `${mib(m.rssMiB)} MiB of memory (RSS of its ${m.processes} processes${pss})`;
}

const summaryFile = option('--summary');
if (summaryFile) writeFileSync(summaryFile, JSON.stringify(summary, null, 2));
const bold = (/** @type {string} */ t) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\x1b[1m${t}\x1b[0m` : t);
process.stdout.write(`
${bold('Meridian is ready')} in ${seconds.toFixed(1)} s, using ${memoryLine(memory)}

${rows.join('\n')}

  try:   curl ${url('service-a')}/call-service-b
         curl -X POST -H 'content-type: image/jpeg' --data-binary @photo.jpg ${url('preprocessing-edge')}/preprocessing
${withPipeline ? `  trace: npm run trace -- --service service-a      (waterfall of the latest trace, from Jaeger)\n` : ''}  fault: npm run fault -- service-b latency-ms on 800   (then \`off\`; \`npm run fault -- list\` shows all)
         flag file ${flagsFile}, re-read by every service within ~0.5 s

Press Ctrl-C to stop.
`);
if (persesLater) buildAndStartPerses();
