import { GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { IllegalTransitionError } from '../../domain/errors.js';
import { parseVersion } from '../../domain/registry/semver.js';
import { SERVABLE } from '../../domain/registry/status.js';
import {
  inForce,
  isStageChange,
  type LedgerEntry,
  type PromoteInput,
  type StagePointer,
} from '../../domain/registry/types.js';
import { isConditionFailure, RetryableConflict, withOptimisticRetry } from '../dynamo-conditions.js';
import { keys } from './keys.js';
import { type RegistryTable, strip } from './registry-table.js';
import type { VersionStore } from './versions.js';

/**
 * Stage pointers and the append-only promotion ledger: a promotion moves the pointer, appends
 * the next ledger entry and readies the version in one transaction, conditional on the pointer
 * read, so concurrent promotions form one chain.
 */
export class StageLedger {
  constructor(
    private readonly t: RegistryTable,
    private readonly versions: Pick<VersionStore, 'requireVersion'>,
  ) {}

  async getStage(model: string, stage: string): Promise<StagePointer | undefined> {
    const out = await this.t.doc.send(
      new GetCommand({
        TableName: this.t.tableName,
        Key: { PK: keys.model(model), SK: keys.stage(stage) },
        ConsistentRead: true,
      }),
    );
    return strip<StagePointer>(out.Item);
  }

  async listStages(model: string): Promise<StagePointer[]> {
    return (await this.t.queryPrefix(model, keys.stagePrefix())).map(
      (i) => strip<StagePointer>(i) as StagePointer,
    );
  }

  /**
   * Moves a stage to a version: the pointer, the next ledger entry and the version's status in
   * one transaction, conditional on the pointer still being at the sequence number read, so
   * concurrent promotions form one chain.
   */
  async promote(input: PromoteInput): Promise<LedgerEntry> {
    const version = parseVersion(input.version);
    return withOptimisticRetry(`promoting ${input.model} ${version} to ${input.stage}`, async () => {
      const out = await this.attemptPromote(input, version);
      return out.entry;
    });
  }

  /**
   * `promote`, at most once per idempotency key (e.g. one per pipeline execution): the key is
   * kept in the ledger entry's evidence, and a call whose key is already in the stage's ledger
   * returns that entry (`created: false`) and writes nothing, even when newer entries have moved
   * the stage since — a redelivered Deploy must not move a stage back to what it deployed then.
   * The key is looked up after the pointer is read and the write is conditional on that
   * pointer, so two concurrent calls with one key cannot both append.
   */
  async promoteOnce(
    input: PromoteInput & { idempotencyKey: string },
  ): Promise<{ entry: LedgerEntry; created: boolean }> {
    const version = parseVersion(input.version);
    const { idempotencyKey, ...rest } = input;
    const evidence: LedgerEntry['evidence'] & { idempotencyKey: string } = {
      ...input.evidence,
      idempotencyKey,
    };
    return withOptimisticRetry(`promoting ${input.model} ${version} to ${input.stage}`, () =>
      this.attemptPromote({ ...rest, evidence }, version, () =>
        this.findByIdempotencyKey(input.model, input.stage, idempotencyKey),
      ),
    );
  }

  /** The stage change recorded with this idempotency key (see promoteOnce), if any. */
  async findByIdempotencyKey(model: string, stage: string, key: string): Promise<LedgerEntry | undefined> {
    const items = await this.t.queryAll({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      FilterExpression: 'evidence.idempotencyKey = :key',
      ExpressionAttributeValues: {
        ':pk': keys.model(model),
        ':prefix': keys.ledgerPrefix(stage),
        ':key': key,
      },
      ConsistentRead: true,
    });
    return items.map((i) => strip<LedgerEntry>(i) as LedgerEntry).find(isStageChange);
  }

  /**
   * The stage change that an approval request authorised (Deploy records the request's id in
   * the entry's evidence), if any: an approval deploys once.
   */
  async findByApprovalRequest(
    model: string,
    stage: string,
    requestId: string,
  ): Promise<LedgerEntry | undefined> {
    const items = await this.t.queryAll({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      FilterExpression: 'evidence.requestId = :id',
      ExpressionAttributeValues: {
        ':pk': keys.model(model),
        ':prefix': keys.ledgerPrefix(stage),
        ':id': requestId,
      },
      ConsistentRead: true,
    });
    return items.map((i) => strip<LedgerEntry>(i) as LedgerEntry).find(isStageChange);
  }

  private async attemptPromote(
    input: PromoteInput,
    version: string,
    existing?: () => Promise<LedgerEntry | undefined>,
  ): Promise<{ entry: LedgerEntry; created: boolean }> {
    const [pointer, record] = await Promise.all([
      this.getStage(input.model, input.stage),
      this.versions.requireVersion(input.model, version),
    ]);
    // Read after the pointer: an entry committed before that read is visible here, and one
    // committed after it fails the write's condition on the pointer, so the retry sees it.
    const found = await existing?.();
    if (found) return { entry: found, created: false };
    if (!SERVABLE.includes(record.status)) {
      throw new IllegalTransitionError(
        `${input.model} ${version} is ${record.status}; only ${SERVABLE.join(' or ')} versions can serve a stage`,
      );
    }
    const seq = (pointer?.ledgerSeq ?? 0) + 1;
    const at = this.t.now();
    const entry: LedgerEntry = {
      model: input.model,
      stage: input.stage,
      seq,
      action: input.action,
      fromVersion: pointer?.version ?? null,
      toVersion: version,
      actor: input.actor,
      reason: input.reason,
      at,
      evidence: input.evidence ?? {},
    };
    const next: StagePointer = {
      model: input.model,
      stage: input.stage,
      version,
      ledgerSeq: seq,
      since: at,
    };
    const statusChange =
      record.status === 'ready'
        ? undefined
        : {
            from: record.status,
            to: 'ready' as const,
            at,
            reason: `${input.action} to ${input.stage}`,
            actor: input.actor,
          };
    try {
      await this.t.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.t.tableName,
                Item: {
                  PK: keys.model(input.model),
                  SK: keys.stage(input.stage),
                  entity: 'stage',
                  ...next,
                },
                ConditionExpression: pointer ? 'ledgerSeq = :seq' : 'attribute_not_exists(SK)',
                ...(pointer ? { ExpressionAttributeValues: { ':seq': pointer.ledgerSeq } } : {}),
              },
            },
            {
              Put: {
                TableName: this.t.tableName,
                Item: {
                  PK: keys.model(input.model),
                  SK: keys.ledger(input.stage, seq),
                  entity: 'ledger',
                  ...entry,
                },
                ConditionExpression: 'attribute_not_exists(SK)',
              },
            },
            {
              Update: {
                TableName: this.t.tableName,
                Key: { PK: keys.model(input.model), SK: keys.version(version) },
                UpdateExpression: statusChange
                  ? 'SET #s = :ready, statusHistory = list_append(statusHistory, :change)'
                  : 'SET lastPromotedAt = :at',
                ConditionExpression: '#s = :status',
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: {
                  ':status': record.status,
                  ...(statusChange ? { ':ready': 'ready', ':change': [statusChange] } : { ':at': at }),
                },
              },
            },
          ],
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) throw new RetryableConflict();
      throw err;
    }
    return { entry, created: true };
  }

  /** Ledger entries, newest first; with `at`, only those made at or before that time. */
  async history(model: string, options: { stage?: string; at?: Date } = {}): Promise<LedgerEntry[]> {
    const entries = (await this.t.queryPrefix(model, keys.ledgerPrefix(options.stage), true)).map(
      (i) => strip<LedgerEntry>(i) as LedgerEntry,
    );
    const at = options.at?.toISOString();
    return entries
      .filter((e) => !at || e.at <= at)
      .sort((a, b) => (a.at === b.at ? b.seq - a.seq : a.at < b.at ? 1 : -1));
  }

  /** The stage change with this sequence number (a stage pointer's `ledgerSeq` names one). */
  async getLedgerEntry(model: string, stage: string, seq: number): Promise<LedgerEntry | undefined> {
    const out = await this.t.doc.send(
      new GetCommand({
        TableName: this.t.tableName,
        Key: { PK: keys.model(model), SK: keys.ledger(stage, seq) },
        ConsistentRead: true,
      }),
    );
    return strip<LedgerEntry>(out.Item);
  }

  /** The ledger entry that was in force for a stage at time T (what was serving then). */
  async servingAt(model: string, stage: string, at: Date): Promise<LedgerEntry | undefined> {
    return (await this.inForceAt(model, at, stage))[0];
  }

  /** The ledger entries in force at time T, one per stage (or for `stage` alone). */
  async inForceAt(model: string, at: Date, stage?: string): Promise<LedgerEntry[]> {
    return inForce(await this.history(model, { ...(stage ? { stage } : {}), at }));
  }

  /**
   * Records that the approvers refused a promotion: an append-only `reject` entry in the
   * stage's ledger, keyed after the change in force, that leaves the pointer where it is. One
   * per approval request, so a redelivered rejection writes nothing twice.
   */
  async recordRejection(input: {
    model: string;
    stage: string;
    version: string;
    requestId: string;
    actor: string;
    reason: string;
    evidence?: LedgerEntry['evidence'];
  }): Promise<LedgerEntry> {
    const pointer = await this.getStage(input.model, input.stage);
    const entry: LedgerEntry = {
      model: input.model,
      stage: input.stage,
      seq: pointer?.ledgerSeq ?? 0,
      action: 'reject',
      fromVersion: pointer?.version ?? null,
      toVersion: parseVersion(input.version),
      actor: input.actor,
      reason: input.reason,
      at: this.t.now(),
      evidence: { ...input.evidence, requestId: input.requestId },
    };
    try {
      await this.t.doc.send(
        new PutCommand({
          TableName: this.t.tableName,
          Item: {
            PK: keys.model(input.model),
            SK: keys.ledgerRejection(input.stage, entry.seq, input.requestId),
            entity: 'ledger',
            ...entry,
          },
          ConditionExpression: 'attribute_not_exists(SK)',
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    return entry;
  }
}
