import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';

/**
 * Send only. `Queue.grantSendMessages` adds sqs:GetQueueAttributes and sqs:GetQueueUrl, which no
 * sender calls: every function gets its queue URLs from the environment (the IAM proof,
 * test/integration/iam, lists every call). The queues use SQS-managed encryption, so no KMS grant.
 */
export function grantSendMessage(queue: IQueue, grantee: IGrantable): Grant {
  return Grant.addToPrincipal({ grantee, actions: ['sqs:SendMessage'], resourceArns: [queue.queueArn] });
}

/** The admin API's DLQ operations (shared/operations/redrive.ts): depth, then receive and delete to redrive. */
export const DLQ_OPERATIONS_ACTIONS = ['sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'] as const;

export function grantDeadLetterOperations(queue: IQueue, grantee: IGrantable): Grant {
  return Grant.addToPrincipal({ grantee, actions: [...DLQ_OPERATIONS_ACTIONS], resourceArns: [queue.queueArn] });
}
