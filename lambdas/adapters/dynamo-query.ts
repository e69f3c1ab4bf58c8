import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

export type Item = Record<string, unknown>;

/**
 * Every item a Query matches, following LastEvaluatedKey (a page stops at 1 MB), or the first
 * `max` of them: then no page past them is read (Limit asks for no more than are still wanted).
 */
export async function queryAll(
  doc: DynamoDBDocumentClient,
  tableName: string,
  input: Omit<QueryCommandInput, 'TableName'>,
  max = Number.POSITIVE_INFINITY,
): Promise<Item[]> {
  const items: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const wanted = max - items.length;
    // Limit counts items read, before a FilterExpression: only an unfiltered query may use it.
    const limit = Number.isFinite(wanted) && !input.FilterExpression ? { Limit: wanted } : {};
    const page = await doc.send(
      new QueryCommand({ TableName: tableName, ...input, ...limit, ExclusiveStartKey: start }),
    );
    items.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey;
  } while (start && items.length < max);
  return items.slice(0, max);
}
