/**
 * Sequence webhook signatures: header `Sequence-Signature: t=<unix ms>,s=<hex HMAC-SHA256 of
 * "<t>.<raw body>">`, keyed with the policy's webhook secret used as given (whsec_ prefix included).
 * Verification works on the exact raw bytes received, compares in constant time, checks the HMAC
 * before the timestamp, and rejects timestamps more than the tolerance away in either direction
 * (default 5 minutes; `WEBHOOK_SIGNATURE_TOLERANCE_SECONDS` changes it).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'sequence-signature';
export const DEFAULT_TOLERANCE_MS = 5 * 60 * 1000;

export type SignatureVerdict =
  | { ok: true; timestampMs: number }
  | { ok: false; reason: 'missing_signature' | 'malformed_signature' | 'signature_mismatch' }
  /** Authentic (the HMAC matched) but signed further than the tolerance from now; `ageMs` = now − t. */
  | { ok: false; reason: 'stale_timestamp'; ageMs: number };

export function computeSignature(secret: string, timestampMs: number | string, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestampMs}.`).update(rawBody).digest('hex');
}

export function signatureHeader(secret: string, rawBody: Buffer | string, timestampMs: number = Date.now()): string {
  return `t=${timestampMs},s=${computeSignature(secret, timestampMs, rawBody)}`;
}

interface ParsedHeader {
  t: string;
  signatures: string[];
}

function parseHeader(header: string): ParsedHeader | undefined {
  let t: string | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const idx = part.indexOf('=');
    if (idx <= 0) return undefined;
    const key = part.slice(0, idx).trim();
    const value = part.slice(idx + 1).trim();
    if (key === 't') t = value;
    else if (key === 's') signatures.push(value);
  }
  if (!t || !/^\d{1,16}$/.test(t) || signatures.length === 0) return undefined;
  return { t, signatures };
}

/**
 * Verify against one or more secrets (more than one while a secret is being rotated).
 */
export function verifySignature(
  header: string | undefined,
  rawBody: Buffer,
  secrets: readonly string[],
  now: number = Date.now(),
  toleranceMs: number = DEFAULT_TOLERANCE_MS,
): SignatureVerdict {
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'missing_signature' };
  const parsed = parseHeader(header);
  if (!parsed) return { ok: false, reason: 'malformed_signature' };
  const timestampMs = Number(parsed.t);
  // The HMAC first, then the timestamp: a stale verdict then always means an authentic delivery
  // (worth logging with its age: a retry signed long ago, or a clock), never a forgery.
  if (!authentic(parsed, rawBody, secrets)) return { ok: false, reason: 'signature_mismatch' };
  if (Math.abs(now - timestampMs) > toleranceMs) return { ok: false, reason: 'stale_timestamp', ageMs: now - timestampMs };
  return { ok: true, timestampMs };
}

function authentic(parsed: ParsedHeader, rawBody: Buffer, secrets: readonly string[]): boolean {
  for (const secret of secrets) {
    const expected = Buffer.from(computeSignature(secret, parsed.t, rawBody), 'hex');
    for (const candidate of parsed.signatures) {
      if (!/^[0-9a-fA-F]{64}$/.test(candidate)) continue;
      const given = Buffer.from(candidate, 'hex');
      if (given.length === expected.length && timingSafeEqual(given, expected)) return true;
    }
  }
  return false;
}
