import type { HistoryEvent } from '@aws-sdk/client-sfn';

/**
 * Step Functions as the handler reads it: GetExecutionHistory of each execution, in the AWS
 * shape (newest first when asked), with the state entering each step as its input.
 */
export class FakeHistory {
  readonly states = new Map<string, Record<string, unknown>[]>();
  async send(command: { input: { executionArn?: string; reverseOrder?: boolean } }) {
    const states = this.states.get(command.input.executionArn ?? '') ?? [];
    const events: HistoryEvent[] = states.map((state, i) => ({
      id: i + 1,
      timestamp: new Date(0),
      type: 'TaskStateEntered',
      stateEnteredEventDetails: { name: `S${i}`, input: JSON.stringify(state) },
    }));
    return { events: command.input.reverseOrder ? events.reverse() : events };
  }
}
