import { execFile } from 'node:child_process';
import { accessSync, constants, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import type { LocalRuntime } from '../../lambdas/contracts/trainer.js';

/**
 * Finds an interpreter on this machine that can run a trainer without Docker: `local.runtime`
 * with every module of `local.requires` importable.
 *
 * Python: $MLCYCLE_PYTHON when set (the user's explicit choice: used or refused, never silently
 * replaced by another interpreter), otherwise `python3` on PATH, then /usr/bin/python3 — where
 * Debian's python3-sklearn, python3-xgboost and python3-torch install (a pyenv or venv python3
 * on PATH often lacks them). Node: this process's own node, with the modules resolved from the
 * trainer folder.
 */

export class TrainerRuntimeError extends Error {
  override readonly name = 'TrainerRuntimeError';
}

export interface HostRuntime {
  readonly runtime: LocalRuntime;
  /** Absolute path of the interpreter the entries run with. */
  readonly executable: string;
  /** Its version, e.g. "3.11.2". */
  readonly version: string;
  /** Each required module and its __version__ (empty when the module has none). */
  readonly modules: Readonly<Record<string, string>>;
}

export interface DiscoverOptions {
  readonly runtime: LocalRuntime;
  readonly requires: readonly string[];
  /** How the error names the trainer: "containers/sklearn-ltv". */
  readonly trainerLabel: string;
  /** The trainer folder (Node resolves modules from it). */
  readonly trainerDir: string;
  /** Environment to read MLCYCLE_PYTHON and PATH from (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** The Debian interpreter tried last (tests point it elsewhere). */
  readonly systemPython?: string;
}

export const MLCYCLE_PYTHON = 'MLCYCLE_PYTHON';
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** Import names whose Debian package or display name is not simply python3-<name>. */
const PYTHON_MODULES: Readonly<Record<string, { readonly label: string; readonly apt: string }>> = {
  sklearn: { label: 'scikit-learn', apt: 'python3-sklearn' },
  numpy: { label: 'NumPy', apt: 'python3-numpy' },
  scipy: { label: 'SciPy', apt: 'python3-scipy' },
  torch: { label: 'PyTorch', apt: 'python3-torch' },
  xgboost: { label: 'XGBoost', apt: 'python3-xgboost' },
  pandas: { label: 'pandas', apt: 'python3-pandas' },
  yaml: { label: 'PyYAML', apt: 'python3-yaml' },
  joblib: { label: 'joblib', apt: 'python3-joblib' },
};
const pythonModule = (name: string) =>
  PYTHON_MODULES[name] ?? { label: name, apt: `python3-${name.toLowerCase().replace(/_/g, '-')}` };

/** Imports each module named on the command line; prints what it found as one JSON line. */
const PROBE = `
import importlib, json, sys
found, missing = {}, {}
for name in sys.argv[1:]:
    try:
        module = importlib.import_module(name)
        found[name] = str(getattr(module, "__version__", ""))
    except Exception as error:
        missing[name] = "%s: %s" % (type(error).__name__, error)
print(json.dumps({"executable": sys.executable, "version": sys.version.split()[0], "found": found, "missing": missing}))
`;

interface Probe {
  readonly executable: string;
  readonly version: string;
  readonly found: Record<string, string>;
  readonly missing: Record<string, string>;
}

/** Importing torch takes a second or two on a loaded machine: allow for much more. */
const PROBE_TIMEOUT_MS = 60_000;

function probePython(
  command: string,
  modules: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<Probe | undefined> {
  return new Promise((done) => {
    execFile(
      command,
      ['-c', PROBE, ...modules],
      {
        env: { PATH: env.PATH ?? '', HOME: env.HOME ?? '', PYTHONDONTWRITEBYTECODE: '1' },
        timeout: PROBE_TIMEOUT_MS,
      },
      (error, stdout) => {
        if (error) return done(undefined);
        try {
          const line = stdout.trim().split('\n').pop() ?? '';
          done(JSON.parse(line) as Probe);
        } catch {
          done(undefined);
        }
      },
    );
  });
}

function onPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const sameFile = (a: string, b: string) => {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
};

function missingSentence(missing: Record<string, string>): { what: string; apt: string; why: string } {
  const names = Object.keys(missing);
  const labels = names.map((n) => pythonModule(n).label);
  const what =
    labels.length > 1 ? `${labels.slice(0, -1).join(', ')} and ${labels.at(-1)}` : (labels[0] ?? '');
  const apt = names.map((n) => pythonModule(n).apt).join(' ');
  // A module that is installed but fails to import says why (an ABI mismatch, a missing .so).
  const broken = Object.entries(missing).filter(([, reason]) => !reason.startsWith('ModuleNotFoundError'));
  const why = broken.length ? ` (${broken.map(([n, reason]) => `import ${n}: ${reason}`).join('; ')})` : '';
  return { what, apt, why };
}

async function discoverPython(options: DiscoverOptions): Promise<HostRuntime> {
  const env = options.env ?? process.env;
  const { requires, trainerLabel } = options;
  const found = (probe: Probe): HostRuntime => ({
    runtime: 'python3',
    executable: probe.executable,
    version: probe.version,
    modules: probe.found,
  });
  const explicit = env[MLCYCLE_PYTHON];
  if (explicit) {
    const probe = await probePython(explicit, requires, env);
    if (!probe) {
      throw new TrainerRuntimeError(
        `${MLCYCLE_PYTHON}=${explicit} does not run as a Python interpreter, so trainer ${trainerLabel} cannot run locally: ` +
          `point it at a python3, or unset it to use ${SYSTEM_PYTHON}`,
      );
    }
    if (Object.keys(probe.missing).length === 0) return found(probe);
    const { what, apt, why } = missingSentence(probe.missing);
    throw new TrainerRuntimeError(
      `${MLCYCLE_PYTHON}=${explicit} lacks ${what}, needed to run trainer ${trainerLabel} locally${why}: ` +
        `install ${Object.keys(probe.missing).length > 1 ? 'them' : 'it'} there, or unset ${MLCYCLE_PYTHON} to use Debian's python3 (apt-get install ${apt})`,
    );
  }

  const systemPython = options.systemPython ?? SYSTEM_PYTHON;
  const candidates: string[] = [];
  const pathPython = onPath('python3', env);
  if (pathPython) candidates.push(pathPython);
  if (!pathPython || !sameFile(pathPython, systemPython)) candidates.push(systemPython);

  // The probe that decides the error message: the system python's (apt installs there).
  let report: Probe | undefined;
  for (const candidate of candidates) {
    const probe = await probePython(candidate, requires, env);
    if (!probe) continue;
    if (Object.keys(probe.missing).length === 0) return found(probe);
    if (!report || candidate === systemPython) report = probe;
  }
  const hint = `(or set ${MLCYCLE_PYTHON} to a python3 that has ${requires.length > 1 ? 'them' : 'it'})`;
  if (!report) {
    const apt = ['python3', ...requires.map((n) => pythonModule(n).apt)].join(' ');
    throw new TrainerRuntimeError(
      `python3 is needed to run trainer ${trainerLabel} locally: apt-get install ${apt} ${hint}`,
    );
  }
  const { what, apt, why } = missingSentence(report.missing);
  throw new TrainerRuntimeError(
    `python3 with ${what} is needed to run trainer ${trainerLabel} locally${why}: apt-get install ${apt} ${hint}`,
  );
}

function discoverNode(options: DiscoverOptions): HostRuntime {
  const require = createRequire(join(options.trainerDir, 'package.json'));
  const modules: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of options.requires) {
    try {
      require.resolve(name);
      modules[name] = '';
    } catch {
      missing.push(name);
    }
  }
  if (missing.length) {
    throw new TrainerRuntimeError(
      `node modules ${missing.join(', ')} are needed to run trainer ${options.trainerLabel} locally: ` +
        `npm install them in ${options.trainerDir} or the repository`,
    );
  }
  return { runtime: 'node', executable: process.execPath, version: process.versions.node, modules };
}

const cache = new Map<string, Promise<HostRuntime>>();

/**
 * The interpreter for a trainer's local runs, or a TrainerRuntimeError whose one-line message
 * says what to install. Results are cached per process (probing imports the modules, which for
 * PyTorch takes a second or two); a failure is not cached, so installing and retrying works.
 */
export function discoverRuntime(options: DiscoverOptions): Promise<HostRuntime> {
  const env = options.env ?? process.env;
  const key = JSON.stringify([
    options.runtime,
    [...options.requires].sort(),
    env[MLCYCLE_PYTHON] ?? '',
    env.PATH ?? '',
    options.systemPython ?? '',
    options.runtime === 'node' ? options.trainerDir : '',
  ]);
  let pending = cache.get(key);
  if (!pending) {
    pending =
      options.runtime === 'node'
        ? Promise.resolve().then(() => discoverNode(options))
        : discoverPython(options);
    cache.set(key, pending);
    pending.catch(() => cache.delete(key));
  }
  return pending;
}
