/**
 * A small fake Secrets Manager over node:http (AWS JSON 1.1, X-Amz-Target: secretsmanager.*):
 * enough of the API for the SecretsManagerVault adapter (create-or-put, reads, scheduled deletion,
 * restore). Used by the adapter's tests and as the secrets backend of the IAM proof.
 */
import http from 'node:http';

export interface FakeSecret {
  value: string;
  versions: number;
  deletedAt?: string;
}

/** ~40 lines of Secrets Manager. `listen(0)` it, then point the client (or AWS_ENDPOINT_URL_SECRETS_MANAGER) at it. */
export function fakeSecretsManager() {
  const secrets = new Map<string, FakeSecret>();
  const calls: { target: string; secretId: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '').replace('secretsmanager.', '');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: string; Name?: string; SecretString?: string; RecoveryWindowInDays?: number };
      const id = body.SecretId ?? body.Name ?? '';
      calls.push({ target, secretId: id });
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      const fail = (type: string, message: string) => reply(400, { __type: type, message });
      const arn = `arn:aws:secretsmanager:eu-west-1:000000000000:secret:${id}-AbCdEf`;
      const existing = secrets.get(id);
      if (target === 'CreateSecret') {
        if (existing) return fail('ResourceExistsException', `The operation failed because the secret ${id} already exists.`);
        secrets.set(id, { value: body.SecretString ?? '', versions: 1 });
        return reply(200, { ARN: arn, Name: id, VersionId: 'v1' });
      }
      if (!existing) return fail('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      if (existing.deletedAt && target !== 'RestoreSecret') return fail('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");
      if (target === 'GetSecretValue') return reply(200, { ARN: arn, Name: id, SecretString: existing.value, VersionId: `v${existing.versions}`, VersionStages: ['AWSCURRENT'] });
      if (target === 'PutSecretValue') {
        existing.value = body.SecretString ?? '';
        existing.versions += 1;
        return reply(200, { ARN: arn, Name: id, VersionId: `v${existing.versions}` });
      }
      if (target === 'DeleteSecret') {
        existing.deletedAt = new Date(Date.now() + (body.RecoveryWindowInDays ?? 30) * 86_400_000).toISOString();
        return reply(200, { ARN: arn, Name: id, DeletionDate: Date.parse(existing.deletedAt) / 1000 });
      }
      if (target === 'RestoreSecret') {
        delete existing.deletedAt;
        return reply(200, { ARN: arn, Name: id });
      }
      return fail('InvalidAction', `Unknown action ${target}`);
    });
  });
  return { server, secrets, calls };
}
