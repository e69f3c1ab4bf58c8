import { ValidationError } from '../errors.js';

export const normalizeEmail = (address: string) => address.trim().toLowerCase();

/**
 * Refuses a quorum that cannot be reached without the requestor, who may never decide on their
 * own promotion: said when the run or promotion is asked for, not after a training job and a
 * wait for the approval timeout. A quorum of 0 asks for no approval and is always reachable.
 */
export function checkQuorumReachable(
  stage: string,
  approvers: readonly string[],
  quorum: number,
  requestedBy: string,
): void {
  if (quorum < 1) return;
  const listed = [...new Set(approvers.map(normalizeEmail).filter(Boolean))];
  const requestor = normalizeEmail(requestedBy);
  const eligible = listed.filter((a) => a !== requestor);
  if (eligible.length < quorum) {
    throw new ValidationError(
      `quorum ${quorum} for ${stage} cannot be reached: approvers are [${listed.join(', ')}]` +
        (eligible.length < listed.length
          ? ` and ${requestor} asked, so may not approve; ask someone else to start it`
          : ''),
    );
  }
}
