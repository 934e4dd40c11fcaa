/** The IAM proof's policy evaluator (test/support/iam/policy.ts): the rules the proof relies on. */
import { type PolicyStatement, evaluate, grantsOf, isWholeServiceGrant, wildcardMatch } from '../../support/iam/policy';

const TABLE = 'arn:aws:dynamodb:eu-west-1:123456789012:table/Connector';
const allowItems: PolicyStatement = { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem'], Resource: TABLE };

describe('evaluate', () => {
  it('allows an action and resource a statement names, and nothing else (implicit deny)', () => {
    expect(evaluate({ action: 'dynamodb:PutItem', resource: TABLE }, [allowItems])).toEqual({ decision: 'allow', statement: allowItems });
    expect(evaluate({ action: 'dynamodb:BatchWriteItem', resource: TABLE }, [allowItems]).decision).toBe('implicit-deny');
    expect(evaluate({ action: 'dynamodb:PutItem', resource: `${TABLE}/index/GSI1` }, [allowItems]).decision).toBe('implicit-deny');
    expect(evaluate({ action: 'dynamodb:PutItem', resource: TABLE }, []).decision).toBe('implicit-deny');
  });

  it('an explicit Deny wins over any Allow, whatever the order', () => {
    const deny: PolicyStatement = { Effect: 'Deny', Action: 'dynamodb:*', Resource: '*' };
    expect(evaluate({ action: 'dynamodb:GetItem', resource: TABLE }, [allowItems, deny])).toEqual({ decision: 'explicit-deny', statement: deny });
    expect(evaluate({ action: 'dynamodb:GetItem', resource: TABLE }, [deny, allowItems]).decision).toBe('explicit-deny');
  });

  it('matches action wildcards case-insensitively and resource wildcards case-sensitively', () => {
    const statements: PolicyStatement[] = [{ Effect: 'Allow', Action: 'SQS:Send*', Resource: 'arn:aws:sqs:eu-west-1:123456789012:app-*.fifo' }];
    expect(evaluate({ action: 'sqs:SendMessage', resource: 'arn:aws:sqs:eu-west-1:123456789012:app-invoice-tax.fifo' }, statements).decision).toBe('allow');
    expect(evaluate({ action: 'sqs:SendMessage', resource: 'arn:aws:sqs:eu-west-1:123456789012:APP-invoice-tax.fifo' }, statements).decision).toBe('implicit-deny');
    expect(evaluate({ action: 'sqs:ReceiveMessage', resource: 'arn:aws:sqs:eu-west-1:123456789012:app-invoice-tax.fifo' }, statements).decision).toBe('implicit-deny');
    expect(wildcardMatch('secret:prefix/?-abc', 'secret:prefix/1-abc')).toBe(true);
    expect(wildcardMatch('secret:prefix/?-abc', 'secret:prefix/12-abc')).toBe(false);
    expect(wildcardMatch('a.b', 'aXb')).toBe(false); // regex characters are literal
  });

  it('honours NotAction and NotResource', () => {
    const statements: PolicyStatement[] = [
      { Effect: 'Allow', NotAction: 'dynamodb:DeleteItem', Resource: TABLE },
      { Effect: 'Deny', Action: '*', NotResource: TABLE },
    ];
    expect(evaluate({ action: 'dynamodb:GetItem', resource: TABLE }, statements).decision).toBe('allow');
    expect(evaluate({ action: 'dynamodb:DeleteItem', resource: TABLE }, statements).decision).toBe('implicit-deny');
    expect(evaluate({ action: 'dynamodb:GetItem', resource: `${TABLE}2` }, statements).decision).toBe('explicit-deny');
  });

  it('evaluates conditions: string, like, bool, IfExists, Null, set operators; a missing key fails a positive operator', () => {
    const tagged: PolicyStatement = { Effect: 'Allow', Action: 'secretsmanager:TagResource', Resource: '*', Condition: { StringEquals: { 'aws:RequestTag/service': 'connector' }, StringLike: { 'aws:RequestedRegion': 'eu-*' } } };
    const request = (context: Record<string, string | string[]>) => ({ action: 'secretsmanager:TagResource', resource: 'arn:x', context });
    expect(evaluate(request({ 'aws:RequestTag/service': 'connector', 'aws:RequestedRegion': 'eu-west-1' }), [tagged]).decision).toBe('allow');
    expect(evaluate(request({ 'aws:RequestTag/service': 'other', 'aws:RequestedRegion': 'eu-west-1' }), [tagged]).decision).toBe('implicit-deny');
    expect(evaluate(request({ 'aws:RequestedRegion': 'eu-west-1' }), [tagged]).decision).toBe('implicit-deny');

    const tlsOnly: PolicyStatement = { Effect: 'Deny', Action: '*', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } };
    const all: PolicyStatement = { Effect: 'Allow', Action: '*', Resource: '*' };
    expect(evaluate(request({ 'aws:SecureTransport': 'true' }), [all, tlsOnly]).decision).toBe('allow');
    expect(evaluate(request({ 'aws:SecureTransport': 'false' }), [all, tlsOnly]).decision).toBe('explicit-deny');

    const ifExists: PolicyStatement = { Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEqualsIfExists: { 'aws:RequestTag/stage': 'sandbox' } } };
    expect(evaluate(request({}), [ifExists]).decision).toBe('allow');
    expect(evaluate(request({ 'aws:RequestTag/stage': 'production' }), [ifExists]).decision).toBe('implicit-deny');

    const untagged: PolicyStatement = { Effect: 'Allow', Action: '*', Resource: '*', Condition: { Null: { 'aws:TagKeys': 'true' } } };
    expect(evaluate(request({}), [untagged]).decision).toBe('allow');
    expect(evaluate(request({ 'aws:TagKeys': ['a'] }), [untagged]).decision).toBe('implicit-deny');

    const onlyKnownKeys: PolicyStatement = { Effect: 'Allow', Action: '*', Resource: '*', Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['connectionId', 'stage'] } } };
    expect(evaluate(request({ 'aws:TagKeys': ['connectionId'] }), [onlyKnownKeys]).decision).toBe('allow');
    expect(evaluate(request({ 'aws:TagKeys': ['connectionId', 'owner'] }), [onlyKnownKeys]).decision).toBe('implicit-deny');

    const notEquals: PolicyStatement = { Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringNotEquals: { 'aws:RequestTag/stage': ['production', 'staging'] } } };
    expect(evaluate(request({ 'aws:RequestTag/stage': 'sandbox' }), [notEquals]).decision).toBe('allow');
    expect(evaluate(request({ 'aws:RequestTag/stage': 'staging' }), [notEquals]).decision).toBe('implicit-deny');
  });

  it('refuses a condition operator it does not know instead of guessing', () => {
    const statement: PolicyStatement = { Effect: 'Allow', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } };
    expect(() => evaluate({ action: 'sqs:SendMessage', resource: 'arn:x', context: { 'aws:SourceIp': '10.1.2.3' } }, [statement])).toThrow(/IpAddress is not supported/);
  });
});

describe('grants', () => {
  it('lists every (action, resource) pair an Allow grants, and flags whole-service grants', () => {
    expect(grantsOf([allowItems, { Effect: 'Deny', Action: 'dynamodb:DeleteItem', Resource: TABLE }]).map((g) => `${g.action} ${g.resource}`)).toEqual([`dynamodb:GetItem ${TABLE}`, `dynamodb:PutItem ${TABLE}`]);
    expect(isWholeServiceGrant('dynamodb:*')).toBe(true);
    expect(isWholeServiceGrant('*')).toBe(true);
    expect(isWholeServiceGrant('dynamodb:Get*')).toBe(false);
    expect(isWholeServiceGrant('sqs:SendMessage')).toBe(false);
  });
});
