import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { RolloutVariant } from '../../contracts/rollout.js';
import {
  ROLLOUT_BATCH_MEMORY,
  type RolloutEnded,
  type RolloutEvidenceUpdate,
  type RolloutRecord,
  type RolloutStep,
  statusForEnd,
} from '../../contracts/rollout-record.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import { cancellationCodes, isConditionFailure } from '../dynamo-conditions.js';
import { keys } from './keys.js';
import { type RegistryTable, strip } from './registry-table.js';
import { putNew, rolloutLedgerPut, seqOf, staleRevision } from './rollout-writes.js';
import type { StageLedger } from './stage-ledger.js';

/** What starting a rollout needs; the store allocates the id and writes the rest. */
export interface RolloutStartInput {
  model: string;
  stage: string;
  canaryVersion: string;
  /** What serves the stage, read at `ledgerSeq`: the start fails if the stage moved since. */
  controlVersion: string;
  ledgerSeq: number;
  variants: RolloutVariant[];
  actor: string;
  reason: string;
  approval: RolloutRecord['approval'];
  /** The deployment starting it: a second start with the same key returns the first's record. */
  deploymentKey?: string;
}

type Item = Record<string, unknown>;

/**
 * Rollouts in the registry table (docs/registry-table.md): `ROLLOUT#<id>` holds the record,
 * `ROLLOUTSTAGE#<stage>` the stage's rollout count (ids `<model>.<stage>.<n>` are never reused)
 * and the active rollout's id, which is what makes "one active rollout per stage" hold. Every
 * change is one transaction with its `rollout` ledger entry, conditional on the record's
 * revision, so concurrent changes serialise or fail with a ConflictError and none is half-made.
 */
export class RolloutStore {
  constructor(
    private readonly t: RegistryTable,
    private readonly stages: Pick<StageLedger, 'getStage'>,
  ) {}

  async get(model: string, rolloutId: string): Promise<RolloutRecord | undefined> {
    return strip<RolloutRecord>(await this.getItem(model, keys.rollout(rolloutId)));
  }

  /** Every rollout of the model, newest first (by start time). */
  async list(model: string): Promise<RolloutRecord[]> {
    const items = await this.t.queryPrefix(model, keys.rolloutPrefix());
    return items
      .map((i) => strip<RolloutRecord>(i) as RolloutRecord)
      .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
  }

  async active(model: string, stage: string): Promise<RolloutRecord | undefined> {
    const marker = await this.getItem(model, keys.rolloutStage(stage));
    const id = marker?.activeId;
    return typeof id === 'string' ? this.get(model, id) : undefined;
  }

  /** The active rollout of each of the model's stages that has one. */
  async activeForModel(model: string): Promise<RolloutRecord[]> {
    const markers = await this.t.queryAll({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.model(model), ':prefix': keys.rolloutStagePrefix() },
      ConsistentRead: true,
    });
    const ids = markers.map((m) => m.activeId).filter((id): id is string => typeof id === 'string');
    const records = await Promise.all(ids.map((id) => this.get(model, id)));
    return records.filter((r): r is RolloutRecord => r !== undefined);
  }

  /**
   * Starts a rollout: the record, the stage's marker naming it active and a `start` ledger entry
   * in one transaction, conditional on no active rollout on the stage and on the stage pointer
   * still at `ledgerSeq`. A start whose deployment key is the active rollout's returns it
   * (`created: false`).
   */
  async start(input: RolloutStartInput): Promise<{ record: RolloutRecord; created: boolean }> {
    const { model, stage } = input;
    const marker = await this.getItem(model, keys.rolloutStage(stage));
    if (typeof marker?.activeId === 'string') return this.startRefused(input, marker.activeId);
    const count = typeof marker?.rolloutCount === 'number' ? marker.rolloutCount : 0;
    const at = this.t.now();
    const rolloutId = `${model}.${stage}.${count + 1}`;
    const record: RolloutRecord = {
      model,
      stage,
      rolloutId,
      status: 'active',
      canaryVersion: input.canaryVersion,
      controlVersion: input.controlVersion,
      controlLedgerSeq: input.ledgerSeq,
      steps: [{ variants: input.variants, at, actor: input.actor, reason: input.reason }],
      startedAt: at,
      startedBy: input.actor,
      approval: input.approval,
      evidence: { steps: {} },
      memory: null,
      lastDecision: null,
      batches: [],
      revision: 0,
      ...(input.deploymentKey ? { deploymentKey: input.deploymentKey } : {}),
    };
    const ledger = rolloutLedgerPut(
      this.t.tableName,
      record,
      input.ledgerSeq,
      'start',
      input.actor,
      input.reason,
      at,
    );
    try {
      await this.t.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.t.tableName,
                Key: { PK: keys.model(model), SK: keys.rolloutStage(stage) },
                UpdateExpression: 'SET rolloutCount = :n, activeId = :id, entity = :entity, stage = :stage',
                ConditionExpression:
                  'attribute_not_exists(activeId) AND (attribute_not_exists(rolloutCount) OR rolloutCount = :count)',
                ExpressionAttributeValues: {
                  ':n': count + 1,
                  ':id': rolloutId,
                  ':count': count,
                  ':entity': 'rollout-stage',
                  ':stage': stage,
                },
              },
            },
            {
              ConditionCheck: {
                TableName: this.t.tableName,
                Key: { PK: keys.model(model), SK: keys.stage(stage) },
                ConditionExpression: 'ledgerSeq = :seq AND version = :control',
                ExpressionAttributeValues: { ':seq': input.ledgerSeq, ':control': input.controlVersion },
              },
            },
            putNew(this.t.tableName, model, keys.rollout(rolloutId), 'rollout', record),
            ledger,
          ],
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const [markerFailed, stageFailed] = cancellationCodes(err).map((c) => c === 'ConditionalCheckFailed');
      if (stageFailed) {
        throw new ConflictError(
          `${model} ${stage} changed while the rollout of ${input.canaryVersion} was starting (it no longer serves ${input.controlVersion} at ledger entry ${input.ledgerSeq}); start the rollout again`,
        );
      }
      const now = await this.getItem(model, keys.rolloutStage(stage));
      if (markerFailed && typeof now?.activeId === 'string') return this.startRefused(input, now.activeId);
      throw new ConflictError(
        `another rollout of ${model} ${stage} was started at the same time; check \`mlcycle rollout status ${model} --stage ${stage}\``,
      );
    }
    return { record, created: true };
  }

  /** Appends a ramp step (the new weights in force) and its ledger entry. */
  async ramp(
    model: string,
    stage: string,
    expectedRevision: number,
    step: RolloutStep,
  ): Promise<RolloutRecord> {
    const current = await this.requireActive(model, stage, expectedRevision);
    const record: RolloutRecord = {
      ...current,
      steps: [...current.steps, step],
      revision: current.revision + 1,
    };
    const pointer = await this.stages.getStage(model, stage);
    await this.transact(current, [
      this.update(current, 'SET steps = list_append(steps, :step), revision = :next', {
        ':step': [step],
        ':next': record.revision,
      }),
      rolloutLedgerPut(
        this.t.tableName,
        record,
        seqOf(pointer),
        'ramp',
        step.actor,
        step.reason ?? '',
        step.at,
      ),
    ]);
    return record;
  }

  /**
   * Ends the active rollout of a stage (`ended.kind` says how; the status follows from it), clears
   * the stage's marker and appends the ledger entry, in one transaction. `decision`: the evidence
   * an automatic abort acted on, kept in the ledger entry.
   */
  async end(
    model: string,
    stage: string,
    expectedRevision: number,
    ended: RolloutEnded,
    options: { decision?: unknown } = {},
  ): Promise<RolloutRecord> {
    const current = await this.requireActive(model, stage, expectedRevision);
    const status = statusForEnd(ended.kind);
    const record: RolloutRecord = { ...current, status, ended, revision: current.revision + 1 };
    const pointer = await this.stages.getStage(model, stage);
    await this.transact(current, [
      this.update(current, 'SET #status = :status, ended = :ended, revision = :next', {
        ':status': status,
        ':ended': ended,
        ':next': record.revision,
      }),
      {
        Update: {
          TableName: this.t.tableName,
          Key: { PK: keys.model(model), SK: keys.rolloutStage(stage) },
          UpdateExpression: 'REMOVE activeId',
          ConditionExpression: 'activeId = :id',
          ExpressionAttributeValues: { ':id': current.rolloutId },
        },
      },
      rolloutLedgerPut(
        this.t.tableName,
        record,
        seqOf(pointer),
        ended.kind,
        ended.actor,
        ended.reason,
        ended.at,
        options.decision,
      ),
    ]);
    return record;
  }

  /**
   * Stores the evidence with this monitoring batch merged in (`update.evidence` is the new total),
   * decide()'s memory and decision; a batch already merged changes nothing (`applied: false`).
   */
  async recordEvidence(
    model: string,
    stage: string,
    expectedRevision: number,
    update: RolloutEvidenceUpdate,
  ): Promise<{ record: RolloutRecord; applied: boolean }> {
    const current = await this.requireActive(model, stage, expectedRevision);
    if (current.batches.includes(update.batchId)) return { record: current, applied: false };
    const record: RolloutRecord = {
      ...current,
      evidence: update.evidence,
      memory: update.memory ?? null,
      lastDecision: update.lastDecision ?? null,
      batches: [...current.batches, update.batchId].slice(-ROLLOUT_BATCH_MEMORY),
      revision: current.revision + 1,
    };
    await this.transact(current, [
      this.update(
        current,
        'SET evidence = :evidence, #memory = :memory, lastDecision = :decision, batches = :batches, revision = :next',
        {
          ':evidence': record.evidence,
          ':memory': record.memory,
          ':decision': record.lastDecision,
          ':batches': record.batches,
          ':next': record.revision,
        },
        { '#memory': 'memory' },
      ),
    ]);
    return { record, applied: true };
  }

  /** Notes the promotion execution `rollout promote` started (no ledger entry: the promotion makes one). */
  async notePromotionRequest(
    model: string,
    stage: string,
    expectedRevision: number,
    request: NonNullable<RolloutRecord['promotionRequest']>,
  ): Promise<RolloutRecord> {
    const current = await this.requireActive(model, stage, expectedRevision);
    const record: RolloutRecord = { ...current, promotionRequest: request, revision: current.revision + 1 };
    await this.transact(current, [
      this.update(current, 'SET promotionRequest = :request, revision = :next', {
        ':request': request,
        ':next': record.revision,
      }),
    ]);
    return record;
  }

  private async startRefused(
    input: RolloutStartInput,
    activeId: string,
  ): Promise<{ record: RolloutRecord; created: boolean }> {
    const active = await this.get(input.model, activeId);
    if (active && input.deploymentKey && active.deploymentKey === input.deploymentKey) {
      return { record: active, created: false };
    }
    throw new ConflictError(
      `rollout ${activeId} of ${input.model} ${input.stage} is still active (${active?.canaryVersion ?? '?'} against ${active?.controlVersion ?? '?'}); promote or abort it before starting another (\`mlcycle rollout abort ${input.model} --stage ${input.stage}\`)`,
    );
  }

  private async requireActive(
    model: string,
    stage: string,
    expectedRevision: number,
  ): Promise<RolloutRecord> {
    const current = await this.active(model, stage);
    if (!current) {
      throw new NotFoundError(
        `${model} ${stage} has no active rollout; start one with \`mlcycle rollout start ${model} --stage ${stage}\``,
      );
    }
    if (current.revision !== expectedRevision) throw staleRevision(current, expectedRevision);
    return current;
  }

  private async transact(current: RolloutRecord, items: Item[]): Promise<void> {
    try {
      await this.t.doc.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const now = await this.get(current.model, current.rolloutId);
      throw staleRevision(now ?? current, current.revision);
    }
  }

  private update(
    current: RolloutRecord,
    expression: string,
    values: Item,
    names: Record<string, string> = {},
  ) {
    return {
      Update: {
        TableName: this.t.tableName,
        Key: { PK: keys.model(current.model), SK: keys.rollout(current.rolloutId) },
        UpdateExpression: expression,
        ConditionExpression: 'revision = :rev AND #status = :active',
        ExpressionAttributeNames: { '#status': 'status', ...names },
        ExpressionAttributeValues: { ...values, ':rev': current.revision, ':active': 'active' },
      },
    };
  }

  private async getItem(model: string, sk: string): Promise<Item | undefined> {
    const out = await this.t.doc.send(
      new GetCommand({
        TableName: this.t.tableName,
        Key: { PK: keys.model(model), SK: sk },
        ConsistentRead: true,
      }),
    );
    return out.Item;
  }
}
