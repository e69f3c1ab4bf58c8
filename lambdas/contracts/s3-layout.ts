/**
 * The artifacts bucket's key layout, one function per kind of key. Handlers, services, the CLI,
 * the local runtime and the CDK grants build keys and prefixes only through these.
 */

/** Training data of a model: `datasets/<model>/…`. */
export const datasetsPrefix = (model: string) => `datasets/${model}/`;

/** Everything a run writes: `runs/<model>/<runId>/…`. Also where external artifacts are registered from. */
export const runsPrefix = (model: string) => `runs/${model}/`;
export const runPrefix = (model: string, runId: string) => `${runsPrefix(model)}${runId}/`;

/** The client manifest of a stage. */
export const manifestKey = (model: string, stage: string) => `deployments/${model}/${stage}.json`;
