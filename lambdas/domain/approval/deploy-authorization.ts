import type { EnvironmentConfig } from '../../contracts/config-schema.js';
import { normalizeEmail } from './quorum.js';
import type { ApprovalRequest, Decision } from './types.js';

/** The deployment Deploy is about to make. */
export interface DeploymentClaim {
  readonly executionArn: string;
  readonly model: string;
  readonly version: string;
  readonly stage: string;
  readonly requestedBy: string;
}

/**
 * Why an approval does not cover a deployment, or undefined when it does: the request must be
 * this execution's, for this model, version and stage, completed as approved, with at least the
 * stage's current quorum of approvals from its current approvers (never the requestor's). So a
 * forged or replayed approval, one from another promotion, or one given under an older, looser
 * policy deploys nothing.
 */
export function approvalGap(
  claim: DeploymentClaim,
  policy: Pick<EnvironmentConfig, 'approvers' | 'quorum'>,
  request: ApprovalRequest | undefined,
  decisions: readonly Decision[],
): string | undefined {
  const what = `${claim.model} ${claim.version} → ${claim.stage}`;
  if (!request) return `no approval request was completed for ${what} in this execution`;
  if (request.executionArn !== claim.executionArn) {
    return `approval request ${request.requestId} belongs to another execution`;
  }
  if (request.model !== claim.model || request.version !== claim.version || request.stage !== claim.stage) {
    return `approval request ${request.requestId} is for ${request.model} ${request.version} → ${request.stage}, not ${what}`;
  }
  if (request.status !== 'approved') {
    return `approval request ${request.requestId} is ${request.status}, not approved`;
  }
  const approvers = new Set(policy.approvers.map(normalizeEmail));
  const requestor = normalizeEmail(claim.requestedBy);
  const counted = new Set(
    decisions
      .filter((d) => d.decision === 'approve')
      .map((d) => normalizeEmail(d.approver))
      .filter((a) => approvers.has(a) && a !== requestor),
  );
  if (decisions.some((d) => d.decision === 'reject')) {
    return `approval request ${request.requestId} has a rejection`;
  }
  if (counted.size < policy.quorum) {
    return `${claim.stage} needs ${policy.quorum} approval(s) from its approvers; request ${request.requestId} has ${counted.size}`;
  }
  return undefined;
}
