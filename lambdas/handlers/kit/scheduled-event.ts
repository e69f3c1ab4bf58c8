import { z } from 'zod';

/**
 * The EventBridge scheduled event (the stack's rule, or `mlcycle up`'s local scheduler, which
 * sends the same shape). Only the fields the handlers log are read.
 */
export const scheduledEventSchema = z.object({
  'detail-type': z.literal('Scheduled Event'),
  source: z.string().min(1),
  time: z.iso.datetime({ offset: true }),
  resources: z.array(z.string()).default([]),
});
