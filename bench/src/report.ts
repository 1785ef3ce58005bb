/**
 * bench/results/latest.json (every comparison's latest result, merged across runs so a comparison
 * can be rerun alone), latest.md (the table), and the generated section of docs/benchmarks.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ComparisonResult, Figure } from './context';
import { DOCS_FILE, RESULTS_DIR, ROOT } from './paths';
import { TOOLS_BIN } from './pipeline';
import { describeTarget, fmt } from './stats';

export interface Machine {
  cpus: number;
  model: string;
  memoryGiB: number;
  os: string;
  node: string;
  loadAverage1m: number;
}

export interface Results {
  machine: Machine;
  versions: Record<string, string>;
  comparisons: Record<string, ComparisonResult>;
}

export function machine(): Machine {
  return {
    cpus: os.cpus().length,
    model: os.cpus()[0]?.model?.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    loadAverage1m: Number(os.loadavg()[0].toFixed(2)),
  };
}

function packageVersion(name: string): string {
  try {
    const p = path.join(ROOT, 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
  } catch {
    return 'n/a';
  }
}

function toolVersion(tool: string, args: string[]): string {
  try {
    const out = execFileSync(path.join(TOOLS_BIN, tool), args, { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const m = /v?\d+\.\d+\.\d+[^\s,)"]*/.exec(out);
    return m ? m[0] : out.split('\n')[0].trim();
  } catch {
    return 'n/a';
  }
}

export function versions(): Record<string, string> {
  return {
    node: process.version,
    '@nestjs/core': packageVersion('@nestjs/core'),
    fastify: packageVersion('fastify'),
    express: packageVersion('express'),
    '@opentelemetry/sdk-node': packageVersion('@opentelemetry/sdk-node'),
    '@opentelemetry/auto-instrumentations-node': packageVersion('@opentelemetry/auto-instrumentations-node'),
    'prom-client': packageVersion('prom-client'),
    'onnxruntime-node': packageVersion('onnxruntime-node'),
    sharp: packageVersion('sharp'),
    autocannon: packageVersion('autocannon'),
    otelcol: toolVersion('otelcol', ['--version']),
    jaeger: toolVersion('jaeger', ['version']),
    prometheus: toolVersion('prometheus', ['--version']),
  };
}

export function loadResults(): Results | undefined {
  const file = path.join(RESULTS_DIR, 'latest.json');
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as Partial<Results>;
    // Files from before the comparison list (one adapters run) are not merged.
    return r.comparisons ? (r as Results) : undefined;
  } catch {
    return undefined;
  }
}

function metCell(f: Figure): string {
  if (!f.target) return '';
  if (f.met === undefined) return 'n/a';
  return f.met ? 'met' : '**not met**';
}

function valueCell(f: Figure): string {
  return `${fmt(f.value)}${f.unit && f.unit !== '' ? ` ${f.unit}` : ''}`;
}

const escape = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The Markdown table: one row per figure, grouped by item of the benchmark list. */
export function markdown(results: Results, order: string[]): string {
  const m = results.machine;
  const v = results.versions;
  const lines: string[] = [];
  lines.push(
    `Machine: ${m.cpus} × ${m.model}, ${m.memoryGiB} GiB, ${m.os}; 1-min load average ${m.loadAverage1m} when the last run started. ` +
      `Node ${v.node}, NestJS ${v['@nestjs/core']}, Fastify ${v.fastify}, OpenTelemetry SDK ${v['@opentelemetry/sdk-node']} ` +
      `(auto-instrumentations ${v['@opentelemetry/auto-instrumentations-node']}), prom-client ${v['prom-client']}, ` +
      `onnxruntime-node ${v['onnxruntime-node']}, collector ${v.otelcol}, Jaeger ${v.jaeger}, Prometheus ${v.prometheus}, autocannon ${v.autocannon}. ` +
      'Load generator on the same machine; its CPU is given beside each throughput figure.',
  );
  lines.push('');
  lines.push('| comparison | date | mode | duration |');
  lines.push('|---|---|---|---|');
  for (const name of order) {
    const c = results.comparisons[name];
    if (!c) continue;
    lines.push(`| ${name}: ${escape(c.title)} | ${c.date.slice(0, 16).replace('T', ' ')} UTC | ${c.quick ? 'quick (noisy)' : 'full'} | ${Math.round(c.seconds)} s |`);
  }
  lines.push('');
  lines.push('| # | figure | value | target | met | context |');
  lines.push('|---|---|---|---|---|---|');
  const figures = order.flatMap((n) => results.comparisons[n]?.figures ?? []);
  figures.sort((a, b) => a.item - b.item);
  for (const f of figures) {
    lines.push(`| ${f.item} | ${escape(f.label)} | ${valueCell(f)} | ${f.target ? describeTarget(f.target, f.unit) : ''} | ${metCell(f)} | ${escape(f.detail)} |`);
  }
  const notes = order.flatMap((n) => (results.comparisons[n]?.notes ?? []).map((t) => `${n}: ${t}`));
  if (notes.length) {
    lines.push('');
    lines.push('Notes from the runs:');
    lines.push('');
    for (const n of notes) lines.push(`- ${n}`);
  }
  return lines.join('\n') + '\n';
}

export const DOCS_START = '<!-- bench:start -->';
export const DOCS_END = '<!-- bench:end -->';

/** Replaces the text between the markers; the rest of the document is left as written. */
export function replaceMarked(doc: string, generated: string): string {
  const s = doc.indexOf(DOCS_START);
  const e = doc.indexOf(DOCS_END);
  if (s === -1 || e === -1 || e < s) throw new Error(`the document has no ${DOCS_START} … ${DOCS_END} section`);
  return `${doc.slice(0, s + DOCS_START.length)}\n<!-- Generated by \`npm run bench\`; edits here are overwritten. -->\n\n${generated}\n${doc.slice(e)}`;
}

export function write(results: Results, order: string[]): { json: string; md: string } {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const json = path.join(RESULTS_DIR, 'latest.json');
  const md = path.join(RESULTS_DIR, 'latest.md');
  writeFileSync(json, JSON.stringify(results, null, 2) + '\n');
  const table = markdown(results, order);
  writeFileSync(md, table);
  if (existsSync(DOCS_FILE)) {
    const doc = readFileSync(DOCS_FILE, 'utf8');
    if (doc.includes(DOCS_START)) writeFileSync(DOCS_FILE, replaceMarked(doc, table));
  }
  return { json, md };
}
