/** `verify`: checks every assumption about the real APIs against the operator's Sequence sandbox and Sphere test organisation. */
import { runChecks } from '../../shared/assumptions/checks';
import { VerifySession } from '../../shared/assumptions/verify-session';
import { table } from '../format';
import { type Context, UsageError, seconds } from './context';

function withoutSecrets(text: string, secrets: readonly string[]): string {
  return secrets.filter((x) => x.length > 0).reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}

export async function verify(ctx: Context): Promise<number> {
  const { flags, io } = ctx;
  if (flags['sequence-client-secret'] !== undefined || flags['sphere-api-key'] !== undefined) {
    throw new UsageError('verify reads secrets from SEQUENCE_CLIENT_SECRET / SPHERE_API_KEY or stdin, never from flags (shell history)');
  }
  const missing = [
    !flags['sequence-base-url'] && '--sequence-base-url (your Sequence sandbox API, e.g. https://sandbox.sequencehq.com/api)',
    !flags['sequence-client-id'] && '--sequence-client-id',
    !flags['sphere-base-url'] && '--sphere-base-url (e.g. https://server.getsphere.com)',
    !flags['tax-code-default'] && '--tax-code-default (a product tax code of your Sphere organisation)',
  ].filter(Boolean);
  if (missing.length > 0) throw new UsageError(`verify needs ${missing.join(', ')}`);
  for (const name of ['sequence-base-url', 'sphere-base-url', 'webhook-url'] as const) {
    const value = flags[name];
    if (value !== undefined && !URL.canParse(value)) throw new UsageError(`--${name} must be an absolute URL, got "${value}"`);
  }
  const rawPort = flags['webhook-port'] ?? '0';
  if (!/^\d+$/.test(rawPort) || Number(rawPort) > 65535) throw new UsageError(`--webhook-port must be a port number (0-65535), got "${rawPort}"`);
  const webhookWaitMs = seconds(flags['webhook-wait'], 'webhook-wait', 30) * 1000;

  // Sequence first, then Sphere: the order the usage text promises for piped input.
  const secret = async (env: string | undefined, prompt: string): Promise<string> => {
    if (env) return env;
    if (!io.readSecret) throw new UsageError(`verify needs ${prompt.replace(/:\s*$/, '')} (env or stdin)`);
    return io.readSecret(prompt);
  };
  const sequenceClientSecret = await secret(io.env.SEQUENCE_CLIENT_SECRET, 'Sequence client secret (SEQUENCE_CLIENT_SECRET): ');
  const sphereApiKey = await secret(io.env.SPHERE_API_KEY, 'Sphere API key (SPHERE_API_KEY): ');
  const scrub = (text: string) => withoutSecrets(text, [sequenceClientSecret, sphereApiKey]);

  const session = new VerifySession({
    sequenceBaseUrl: flags['sequence-base-url']!,
    sequenceClientId: flags['sequence-client-id']!,
    sequenceClientSecret,
    sphereBaseUrl: flags['sphere-base-url']!,
    sphereApiKey,
    taxCode: flags['tax-code-default']!,
    ...(flags['webhook-url'] ? { webhookUrl: flags['webhook-url'] } : {}),
    webhookPort: Number(rawPort),
    webhookWaitMs,
  });
  const checks = await runChecks(session);
  const refutedCount = checks.filter((c) => c.verdict === 'refuted').length;
  const count = (v: string) => checks.filter((c) => c.verdict === v).length;
  const output = flags.json
    ? `${JSON.stringify({ checks: checks.map(({ id, assumption, verdict, evidence }) => ({ id, assumption, verdict, evidence })) }, null, 2)}\n`
    : table(checks, [
        { header: 'ID', value: (c) => c.id },
        { header: 'VERDICT', value: (c) => (c.verdict === 'refuted' ? 'REFUTED' : c.verdict) },
        { header: 'EVIDENCE', value: (c) => c.evidence },
      ]) +
      `\n${count('confirmed')} confirmed, ${refutedCount} refuted, ${count('unknown')} unknown.` +
      (refutedCount > 0 ? ' Each refuted assumption: see README "Assumptions about the real APIs" and its registry entry (shared/assumptions/registry.ts) before connecting.\n' : '\n');
  io.stdout(scrub(output));
  for (const leftover of session.cleanupFailures) io.stderr(scrub(`Could not remove ${leftover}: delete it by hand.\n`));
  return refutedCount > 0 ? 1 : 0;
}
