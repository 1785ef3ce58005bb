/** What every comparison gets: the run's settings, progress output, and the shape of its result. */
import { meets, Target } from './stats';

export interface Settings {
  quick: boolean;
  /** Rounds of the load comparisons; each round runs every side once, alternating their order. */
  rounds: number;
  /** Measured seconds of each load run. */
  seconds: number;
  /** Warm-up seconds before each load run (JIT, connection pools), not measured. */
  warmup: number;
  /** Rounds of the slower comparisons (cold start, memory, stack). */
  fewRounds: number;
}

export const FULL: Settings = { quick: false, rounds: 3, seconds: 5, warmup: 1, fewRounds: 2 };
export const QUICK: Settings = { quick: true, rounds: 1, seconds: 2, warmup: 0.5, fewRounds: 1 };

export interface Figure {
  id: string;
  /** Item of the benchmark list (docs/benchmarks.md) the figure belongs to. */
  item: number;
  label: string;
  value: number;
  unit: string;
  target?: Target;
  met?: boolean;
  /** The absolute figures behind it, generator CPU, spread across rounds. */
  detail: string;
}

export interface ComparisonResult {
  name: string;
  title: string;
  date: string;
  quick: boolean;
  seconds: number;
  figures: Figure[];
  notes: string[];
  raw: unknown;
}

export class Ctx {
  readonly figures: Figure[] = [];
  readonly notes: string[] = [];
  constructor(
    readonly name: string,
    readonly settings: Settings,
    private readonly runStarted: number,
  ) {}

  log(msg: string): void {
    const s = Math.round((performance.now() - this.runStarted) / 1000);
    const clock = `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
    process.stdout.write(`[${clock} ${this.name}] ${msg}\n`);
  }

  /** Records a figure and prints it beside its target. */
  figure(f: Omit<Figure, 'met'>): Figure {
    const full: Figure = { ...f, met: f.target ? meets(f.value, f.target) : undefined };
    this.figures.push(full);
    const unit = f.unit ? ` ${f.unit}` : '';
    const target = f.target ? `  target ${f.target.op === '>=' ? '≥' : '≤'} ${f.target.value}${unit}: ${full.met === undefined ? 'not measured' : full.met ? 'met' : 'NOT MET'}` : '';
    this.log(`» ${f.label}: ${Number.isFinite(f.value) ? Number(f.value.toPrecision(4)) : 'n/a'}${unit}${target}  (${f.detail})`);
    return full;
  }

  note(text: string): void {
    this.notes.push(text);
    this.log(`note: ${text}`);
  }
}

export interface Comparison {
  name: string;
  title: string;
  /** Items of the benchmark list it measures. */
  items: number[];
  run(ctx: Ctx): Promise<unknown>;
}
