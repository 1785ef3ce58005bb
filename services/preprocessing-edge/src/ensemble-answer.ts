/** What inference-ensemble answers to POST /ensemble. */
export interface TopEntry {
  index: number;
  label: string;
  score: number;
}

export interface EnsembleAnswer {
  model: 'ensemble';
  members: string[];
  /** Set by the ensemble when one member failed and the answer comes from the other alone. */
  degraded?: boolean;
  failed?: { member: string }[];
  untrained: boolean;
  probabilities: number[];
  top5: TopEntry[];
  timings: Record<string, unknown>;
}

export const CLASS_COUNT = 1000;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Checks the ensemble's answer; returns what is wrong with it, or undefined when it has the
 * expected shape. The edge never forwards a body it has not checked.
 */
export function ensembleAnswerProblem(data: unknown): string | undefined {
  if (!isObject(data)) return 'the answer is not a JSON object';
  if (data.model !== 'ensemble') return `model must be "ensemble" (got ${JSON.stringify(data.model)})`;
  if (!Array.isArray(data.members) || !data.members.every((m) => typeof m === 'string')) return 'members must be a list of model names';
  if (typeof data.untrained !== 'boolean') return 'untrained must be true or false';
  if (data.degraded !== undefined && typeof data.degraded !== 'boolean') return 'degraded must be true or false';
  if (!Array.isArray(data.probabilities) || data.probabilities.length !== CLASS_COUNT || !data.probabilities.every(isFiniteNumber)) {
    return `probabilities must be ${CLASS_COUNT} numbers`;
  }
  if (!Array.isArray(data.top5) || data.top5.length < 1 || data.top5.length > 5) return 'top5 must list 1 to 5 classes';
  for (const entry of data.top5) {
    if (
      !isObject(entry) ||
      !Number.isInteger(entry.index) ||
      (entry.index as number) < 0 ||
      (entry.index as number) >= CLASS_COUNT ||
      typeof entry.label !== 'string' ||
      !isFiniteNumber(entry.score)
    ) {
      return 'each top5 entry must be { index: 0..999, label: string, score: number }';
    }
  }
  if (!isObject(data.timings)) return 'timings must be an object';
  return undefined;
}

export function isEnsembleAnswer(data: unknown): data is EnsembleAnswer {
  return ensembleAnswerProblem(data) === undefined;
}
