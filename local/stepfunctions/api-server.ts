import type { LocalStepFunctions } from './engine.js';
import { type ExecutionRecord, SfnApiError } from './execution-record.js';
import { type JsonApiServer, serveJsonApi } from './json-api.js';

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

function summary(e: ExecutionRecord) {
  return {
    executionArn: e.executionArn,
    stateMachineArn: e.stateMachineArn,
    name: e.name,
    status: e.status,
    startDate: seconds(e.startDate),
    stopDate: seconds(e.stopDate),
  };
}

type Body = Record<string, unknown>;
const str = (body: Body, key: string): string => {
  const v = body[key];
  if (typeof v !== 'string') throw new SfnApiError('InvalidArn', `${key} is required`);
  return v;
};

/**
 * The Step Functions API (AWS JSON 1.0 protocol) in front of the local engine, for the subset
 * mlcycle uses. Handlers and the CLI use the real @aws-sdk/client-sfn with AWS_ENDPOINT_URL_SFN
 * pointed here, so the approval callback and `pipeline start|status|list` have one code path.
 */
export function handleSfnCall(engine: LocalStepFunctions, operation: string, body: Body): unknown {
  switch (operation) {
    case 'StartExecution': {
      if (body.stateMachineArn !== engine.stateMachineArn) {
        throw new SfnApiError(
          'StateMachineDoesNotExist',
          `state machine ${String(body.stateMachineArn)} does not exist`,
        );
      }
      let input: unknown = {};
      if (typeof body.input === 'string') {
        try {
          input = JSON.parse(body.input);
        } catch {
          throw new SfnApiError('InvalidExecutionInput', 'input is not valid JSON');
        }
      }
      const record = engine.startExecution(input, typeof body.name === 'string' ? body.name : undefined);
      return { executionArn: record.executionArn, startDate: seconds(record.startDate) };
    }
    case 'DescribeExecution': {
      const e = engine.describe(str(body, 'executionArn'));
      return { ...summary(e), input: e.input, output: e.output, error: e.error, cause: e.cause };
    }
    case 'ListExecutions': {
      const status = body.statusFilter;
      const max = typeof body.maxResults === 'number' && body.maxResults > 0 ? body.maxResults : 100;
      const executions = engine
        .list()
        .filter((e) => !status || e.status === status)
        .slice(0, max)
        .map(summary);
      return { executions };
    }
    case 'GetExecutionHistory': {
      const e = engine.describe(str(body, 'executionArn'));
      const events = e.events.map((ev) => ({ ...ev, timestamp: seconds(ev.timestamp) }));
      const ordered = body.reverseOrder ? events.reverse() : events;
      // Pages as AWS pages them (default 100, at most 1000), the token being the next offset.
      const size = Math.min(Number(body.maxResults) || 100, 1000);
      const from = typeof body.nextToken === 'string' ? Number(body.nextToken) || 0 : 0;
      const next = from + size < ordered.length ? String(from + size) : undefined;
      return { events: ordered.slice(from, from + size), ...(next ? { nextToken: next } : {}) };
    }
    case 'DescribeStateMachine':
      return {
        stateMachineArn: engine.stateMachineArn,
        name: engine.stateMachineArn.split(':').pop(),
        status: 'ACTIVE',
        definition: JSON.stringify(engine.definition),
        type: 'STANDARD',
        roleArn: 'arn:aws:iam::000000000000:role/mlcycle-local',
        creationDate: 0,
      };
    case 'SendTaskSuccess':
      engine.sendTaskSuccess(str(body, 'taskToken'), str(body, 'output'));
      return {};
    case 'SendTaskFailure':
      engine.sendTaskFailure(
        str(body, 'taskToken'),
        typeof body.error === 'string' ? body.error : '',
        typeof body.cause === 'string' ? body.cause : '',
      );
      return {};
    case 'SendTaskHeartbeat':
      return {};
    case 'StopExecution':
      engine.stopExecution(
        str(body, 'executionArn'),
        typeof body.error === 'string' ? body.error : undefined,
        typeof body.cause === 'string' ? body.cause : undefined,
      );
      return { stopDate: seconds(Date.now()) };
    default:
      throw new SfnApiError('InvalidArn', `operation ${operation} is not supported by the local runtime`);
  }
}

export function startSfnApiServer(engine: LocalStepFunctions, port = 0): Promise<JsonApiServer> {
  return serveJsonApi(port, 'application/x-amz-json-1.0', (req, body) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AWSStepFunctions.') ? target.slice('AWSStepFunctions.'.length) : '';
    try {
      return { status: 200, payload: handleSfnCall(engine, operation, body as Body) };
    } catch (err) {
      const known = err instanceof SfnApiError;
      const code = known ? err.code : 'InternalFailure';
      return {
        status: known ? 400 : 500,
        payload: { __type: `com.amazonaws.states#${code}`, message: (err as Error).message },
      };
    }
  });
}
