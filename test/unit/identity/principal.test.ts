import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../lambdas/adapters/config-file.js';
import { personOf, principalMatches } from '../../../lambdas/domain/identity/principal.js';
import { callerOf } from '../../../lambdas/handlers/kit/caller.js';

const ACCOUNT = '111122223333';
const OTHER_ACCOUNT = '444455556666';
const role = (name: string, account = ACCOUNT, partition = 'aws', path = '') =>
  `arn:${partition}:iam::${account}:role/${path}${name}`;
const session = (roleName: string, name: string, account = ACCOUNT, partition = 'aws') =>
  `arn:${partition}:sts::${account}:assumed-role/${roleName}/${name}`;
const user = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:user/${name}`;

describe('principalMatches: does a caller (API Gateway’s userArn) match a listed principal?', () => {
  it('a listed IAM user or session matches itself only, exactly', () => {
    expect(principalMatches(user('alice'), user('alice'))).toBe(true);
    expect(principalMatches(user('alice'), user('alice2'))).toBe(false);
    expect(principalMatches(user('alice'), user('Alice'))).toBe(false);
    expect(principalMatches(user('alice'), user('alice', OTHER_ACCOUNT))).toBe(false);
    expect(principalMatches(session('Approvers', 'carol'), session('Approvers', 'carol'))).toBe(true);
    expect(principalMatches(session('Approvers', 'carol'), session('Approvers', 'mallory'))).toBe(false);
    expect(principalMatches(session('Approvers', 'carol'), session('Approvers', 'Carol'))).toBe(false);
    // A session listed is not its role: another session, or the role's ARN, is not it.
    expect(principalMatches(session('Approvers', 'carol'), role('Approvers'))).toBe(false);
  });

  it('a listed role matches every session of it, with or without a path, its name in any case', () => {
    for (const listed of [role('approver-b'), role('approver-b', ACCOUNT, 'aws', 'team/ml/')]) {
      expect(principalMatches(listed, session('approver-b', 'bob'))).toBe(true);
      expect(principalMatches(listed, session('approver-b', 'botocore-session-1700000000'))).toBe(true);
      expect(principalMatches(listed, session('APPROVER-B', 'bob'))).toBe(true);
    }
  });

  it('a listed role matches no session of another role, account or partition, and no user of its name', () => {
    const listed = role('approver-b');
    expect(principalMatches(listed, session('approver-c', 'bob'))).toBe(false);
    expect(principalMatches(listed, session('approver-bb', 'bob'))).toBe(false);
    expect(principalMatches(listed, session('b', 'bob'))).toBe(false);
    expect(principalMatches(listed, session('approver-b', 'bob', OTHER_ACCOUNT))).toBe(false);
    expect(principalMatches(listed, session('approver-b', 'bob', ACCOUNT, 'aws-cn'))).toBe(false);
    expect(principalMatches(role('approver-b', ACCOUNT, 'aws-us-gov'), session('approver-b', 'bob'))).toBe(
      false,
    );
    expect(principalMatches(listed, user('approver-b'))).toBe(false);
    // Path segments are not role names: role/approver-b/x is the role x.
    expect(principalMatches(role('x', ACCOUNT, 'aws', 'approver-b/'), session('approver-b', 'x'))).toBe(
      false,
    );
    // Nor does a session ARN with extra segments or a malformed one match.
    expect(principalMatches(listed, `${session('approver-b', 'bob')}/extra`)).toBe(false);
    expect(principalMatches(listed, `arn:aws:sts::${ACCOUNT}:assumed-role/approver-b`)).toBe(false);
    expect(principalMatches(listed, `arn:aws:sts::${ACCOUNT}:federated-user/approver-b`)).toBe(false);
  });
});

describe('personOf: the person an AWS principal acts as', () => {
  const identities = {
    'a@studio.test': [user('alice')],
    ' B@Studio.Test ': [role('approver-b')],
    'c@studio.test': [session('Approvers', 'carol'), user('carol')],
  };

  it('maps users, role sessions and listed sessions to their person, trimmed and lower-cased', () => {
    expect(personOf(identities, user('alice'))).toBe('a@studio.test');
    expect(personOf(identities, session('approver-b', 'laptop'))).toBe('b@studio.test');
    expect(personOf(identities, session('Approvers', 'carol'))).toBe('c@studio.test');
    expect(personOf(identities, user('carol'))).toBe('c@studio.test');
  });

  it('maps nobody else', () => {
    for (const caller of [
      user('mallory'),
      session('Approvers', 'mallory'),
      session('approver-b', 'bob', OTHER_ACCOUNT),
      `arn:aws:iam::${ACCOUNT}:root`,
      '',
      'a@studio.test',
    ]) {
      expect(personOf(identities, caller), caller).toBeUndefined();
    }
    expect(personOf({}, user('alice'))).toBeUndefined();
  });
});

describe('identities in the config: one principal is one person', () => {
  const configWith = (identities: Record<string, string[]>) =>
    parseConfig(
      {
        models: { churn: { target: 'churned' } },
        environments: { staging: { approvers: ['a@studio.test'] } },
        identities,
      },
      'identity test config',
    );

  it('accepts users, roles and sessions, several per person', () => {
    expect(
      configWith({
        'a@studio.test': [user('alice'), session('Approvers', 'alice')],
        'b@studio.test': [role('approver-b'), role('approver-b', OTHER_ACCOUNT)],
      }).identities,
    ).toHaveProperty('b@studio.test');
  });

  it('refuses a principal mapped to two people', () => {
    expect(() => configWith({ 'a@studio.test': [user('alice')], 'b@studio.test': [user('alice')] })).toThrow(
      /one principal is one person/,
    );
  });

  it('refuses a role mapped to one person and a session of it to another (who would that session be?)', () => {
    expect(() =>
      configWith({
        'x@studio.test': [role('Approvers')],
        'c@studio.test': [session('Approvers', 'carol')],
      }),
    ).toThrow(/identities\.c@studio\.test.*x@studio\.test/s);
    expect(() =>
      configWith({
        'c@studio.test': [session('approvers', 'carol')],
        'x@studio.test': [role('Approvers', ACCOUNT, 'aws', 'team/')],
      }),
    ).toThrow(/one principal is one person/);
  });

  it('refuses one role (its name in another case, or under another path) mapped to two people', () => {
    expect(() =>
      configWith({
        'x@studio.test': [role('Approvers')],
        'y@studio.test': [role('approvers', ACCOUNT, 'aws', 'ml/')],
      }),
    ).toThrow(/one principal is one person/);
  });
});

describe('callerOf: a mode never falls back to the other', () => {
  const config = parseConfig(
    {
      models: { churn: { target: 'churned' } },
      environments: { staging: { approvers: ['a@studio.test'] } },
      identities: { 'a@studio.test': [user('alice')] },
    },
    'caller test config',
  );
  const event = (authorizer: unknown) =>
    ({ requestContext: authorizer === undefined ? {} : { authorizer } }) as unknown as APIGatewayProxyEventV2;

  it('iam: only the IAM principal counts', () => {
    expect(callerOf(event({ iam: { userArn: user('alice') } }), 'iam', config)).toEqual({
      person: 'a@studio.test',
      principal: user('alice'),
    });
    expect(() => callerOf(event({ lambda: { localActor: 'a@studio.test' } }), 'iam', config)).toThrow(
      /needs a SigV4-signed request/,
    );
    expect(() => callerOf(event(undefined), 'iam', config)).toThrow(/needs a SigV4-signed request/);
  });

  it('local: only the local actor counts', () => {
    expect(callerOf(event({ lambda: { localActor: ' A@Studio.Test ' } }), 'local', config)).toEqual({
      person: 'a@studio.test',
      principal: null,
    });
    expect(() => callerOf(event({ iam: { userArn: user('alice') } }), 'local', config)).toThrow(/no actor/);
  });
});
