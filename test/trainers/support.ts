import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type Hyperparameters,
  predictModeEnv,
  type TaskType,
  trainModeEnv,
} from '../../lambdas/contracts/trainer.js';
import { parsePredictions } from '../../lambdas/domain/ml/predictions.js';
import { checkTrainerHyperparameters, loadTrainer } from '../../local/trainers/manifest.js';
import {
  type RunTrainerOptions,
  runTrainerLocally,
  type TrainerRunResult,
} from '../../local/trainers/run.js';

/**
 * What the tests of trainers share: a temporary workspace, the platform's part of the contract
 * done by hand (split a generated table, drop excluded columns, stage inputs), and runs through
 * the local runner exactly as the platform will call it.
 */

export interface Workspace {
  readonly root: string;
  path(...parts: string[]): string;
  dir(...parts: string[]): string;
  remove(): void;
}

export function workspace(prefix: string): Workspace {
  const root = mkdtempSync(join(tmpdir(), `mlcycle-${prefix}-`));
  return {
    root,
    path: (...parts) => join(root, ...parts),
    dir: (...parts) => {
      const path = join(root, ...parts);
      mkdirSync(path, { recursive: true });
      return path;
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

export interface Table {
  readonly columns: string[];
  readonly rows: string[][];
}

/** Our generated CSVs have no quoted fields, so a split on commas reads them. */
export function readTable(csv: string): Table {
  const [header, ...lines] = csv.trim().split('\n');
  return { columns: (header ?? '').split(','), rows: lines.map((line) => line.split(',')) };
}

export function tableCsv(table: Table): string {
  return `${[table.columns, ...table.rows].map((r) => r.join(',')).join('\n')}\n`;
}

export function dropColumns(table: Table, drop: readonly string[]): Table {
  const keep = table.columns.map((c, i) => (drop.includes(c) ? -1 : i)).filter((i) => i >= 0);
  return {
    columns: keep.map((i) => table.columns[i] as string),
    rows: table.rows.map((r) => keep.map((i) => r[i] as string)),
  };
}

/** Consecutive train / validation / holdout parts of the rows (the generators are already random). */
export function splitRows(table: Table, counts: { train: number; validation: number; holdout: number }) {
  const part = (from: number, count: number): Table => ({
    columns: table.columns,
    rows: table.rows.slice(from, from + count),
  });
  return {
    train: part(0, counts.train),
    validation: part(counts.train, counts.validation),
    holdout: part(counts.train + counts.validation, counts.holdout),
  };
}

/** Holdout rows as the predict entry receives them: never the target column. */
export function predictInput(holdout: Table, target: string) {
  const index = holdout.columns.indexOf(target);
  return {
    input: dropColumns(holdout, [target]),
    labels: holdout.rows.map((r) => r[index] as string),
  };
}

export function tableJsonl(table: Table, numeric: readonly string[]): string {
  return table.rows
    .map((row) => {
      const record: Record<string, string | number | null> = {};
      table.columns.forEach((c, i) => {
        const v = row[i] ?? '';
        record[c] = v === '' ? null : numeric.includes(c) ? Number(v) : v;
      });
      return `${JSON.stringify(record)}\n`;
    })
    .join('');
}

export interface TrainRequest {
  readonly trainer: string;
  readonly ws: Workspace;
  /** A name for this run's folders under the workspace. */
  readonly run: string;
  readonly task: TaskType;
  readonly target: string;
  readonly train: string;
  readonly validation?: string;
  readonly hyperparameters?: Record<string, unknown>;
  /** Reuse another run's checkpoint folder (a retry of the same job). */
  readonly checkpointDir?: string;
  readonly useGpu?: boolean;
  readonly extra?: Partial<RunTrainerOptions>;
}

export interface TrainOutcome extends TrainerRunResult {
  readonly outputDir: string;
  readonly checkpointDir: string;
  readonly hyperparameters: Hyperparameters;
  readonly stdout: string[];
}

/** A train run as the platform will start one: hyperparameters validated first, contract env. */
export async function train(request: TrainRequest): Promise<TrainOutcome> {
  const trainer = loadTrainer(request.trainer);
  const hyperparameters = checkTrainerHyperparameters(trainer, request.hyperparameters ?? {});
  const outputDir = request.ws.dir(request.run, 'output');
  const checkpointDir = request.checkpointDir ?? request.ws.dir(request.run, 'checkpoint');
  const stdout: string[] = [];
  const result = await runTrainerLocally({
    trainerDir: trainer,
    mode: 'train',
    env: trainModeEnv({
      model: trainer.manifest.name,
      runId: request.run,
      codeVersion: 'test',
      task: request.task,
      target: request.target,
      train: request.train,
      validation: request.validation,
      hyperparameters,
      outputDir,
      checkpointDir,
      useGpu: request.useGpu ?? false,
    }),
    logFile: request.ws.path(request.run, 'train.log'),
    ...request.extra,
    onOutput: (line, stream) => {
      if (stream === 'stdout') stdout.push(line);
      request.extra?.onOutput?.(line, stream);
    },
  });
  return { ...result, outputDir, checkpointDir, hyperparameters, stdout };
}

export interface PredictOutcome extends TrainerRunResult {
  readonly text: string;
}

export async function predict(
  trainerDir: string,
  ws: Workspace,
  run: string,
  task: TaskType,
  modelDir: string,
  input: string,
): Promise<PredictOutcome> {
  const predictions = ws.path(run, `predictions-${Date.now().toString(36)}.jsonl`);
  const result = await runTrainerLocally({
    trainerDir,
    mode: 'predict',
    env: predictModeEnv({ task, modelDir, input, predictions }),
    logFile: ws.path(run, 'predict.log'),
  });
  return { ...result, text: existsSync(predictions) ? readFileSync(predictions, 'utf8') : '' };
}

export function predictionsOf(task: TaskType, text: string, rows: number) {
  const parsed = parsePredictions(task, text, rows);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.predictions;
}

export function readJsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

export function write(path: string, text: string): string {
  writeFileSync(path, text);
  return path;
}

/** Asserts nothing; returns the outcome's log for a failing expectation's message. */
export function logOf(outcome: TrainerRunResult): string {
  return existsSync(outcome.logFile) ? readFileSync(outcome.logFile, 'utf8').slice(-3000) : '(no log)';
}
