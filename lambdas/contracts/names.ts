import type { HandlerName } from './handlers.js';

/**
 * Names of resources that the stack creates and the embedded default names the same way: they
 * appear in ARNs the ASL, the handlers and the CLI see (the state machine, the training queue and
 * job definitions, the alert topic, the schedule rules that invoke a handler).
 */

/** `approvalReminders` → `approval-reminders`. */
export const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export const stateMachineName = (project: string) => `${project}-lifecycle`;

/** The one training job queue (the ASL names one queue). */
export const trainingQueueName = (project: string) => `${project}-training`;

/** Job definitions are named `<prefix><model>` (one per model); the ASL builds the name from the model. */
export const jobDefinitionPrefix = (project: string) => `${project}-trainer-`;
/** The predict job definitions (the trainer's predict entry on the holdout, CPU): `<prefix><model>`. */
export const predictJobDefinitionPrefix = (project: string) => `${project}-predict-`;

export const alertTopicName = (project: string) => `${project}-alerts`;

/** The schedule rule that invokes a handler whose contract has a `schedule`. */
export const scheduleRuleName = (project: string, handler: HandlerName) => `${project}-${kebab(handler)}`;
