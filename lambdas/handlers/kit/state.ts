import type { z } from 'zod';
import {
  approvalOutcomeSchema,
  evaluationResultSchema,
  gateOutcomeSchema,
  pipelineStateSchema,
  registrationSchema,
  runInfoSchema,
} from '../../contracts/pipeline.js';

/**
 * The lifecycle state as it grows through the states (each adds its ResultPath). Handlers parse
 * just the part they need, so a missing predecessor output is a clear validation error.
 */
export const preparedStateSchema = pipelineStateSchema.extend({ run: runInfoSchema });
export const evaluatedStateSchema = preparedStateSchema.extend({ evaluation: evaluationResultSchema });
export const registeredStateSchema = evaluatedStateSchema.extend({ registration: registrationSchema });
export const gatedStateSchema = registeredStateSchema.extend({ gate: gateOutcomeSchema });
export const approvedStateSchema = gatedStateSchema.extend({ approval: approvalOutcomeSchema.optional() });

export type PreparedState = z.infer<typeof preparedStateSchema>;
export type GatedState = z.infer<typeof gatedStateSchema>;
export type ApprovedState = z.infer<typeof approvedStateSchema>;
