import { describe, expect, it } from 'vitest';
import { cloudWatchLogStreamUrl } from '../../../lambdas/contracts/stager.js';

describe('the run record logs link', () => {
  it('is the CloudWatch console URL of the stream, with / escaped the way the console does', () => {
    expect(cloudWatchLogStreamUrl('eu-west-1', '/mlcycle/batch/train', 'churn/trainer/0a1b2c')).toBe(
      'https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:log-groups/log-group/$252Fmlcycle$252Fbatch$252Ftrain/log-events/churn$252Ftrainer$252F0a1b2c',
    );
  });
});
