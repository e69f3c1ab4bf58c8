import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type StartRecord, startRecordSchema } from '../../contracts/pipeline.js';
import { ConflictError } from '../../domain/errors.js';
import { isConditionFailure } from '../dynamo-conditions.js';

const key = (executionName: string) => ({ PK: `START#${executionName}`, SK: 'START' });

/**
 * Start records: who asked for an execution, and what, written by the start service before it
 * calls StartExecution. Execution names are unique, so each record is written once.
 */
export class StartStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async put(record: StartRecord): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...key(record.executionName), entity: 'start', ...record },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) {
        throw new ConflictError(`an execution named ${record.executionName} was already started`, undefined, {
          cause: err,
        });
      }
      throw err;
    }
  }

  async get(executionName: string): Promise<StartRecord | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.tableName, Key: key(executionName), ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const parsed = startRecordSchema.safeParse(out.Item);
    return parsed.success ? parsed.data : undefined;
  }

  /** Undoes a record whose execution could not be started, so no half-started request remains. */
  async delete(executionName: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: key(executionName) }));
  }
}
