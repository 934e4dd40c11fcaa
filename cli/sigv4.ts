/**
 * AWS Signature Version 4 for the admin CLI's calls to a deployed stack (HTTP API routes with IAM
 * authorisation, service `execute-api`). Uses @smithy/signature-v4 (the AWS SDK's own signer) with a
 * SHA-256 built on node:crypto, so no extra crypto package is needed.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, Checksum, Provider, SourceData } from '@smithy/types';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

/** SHA-256 / HMAC-SHA256 in the shape the SDK signer expects (`new Sha256(secret?)`). */
export class NodeSha256 implements Checksum {
  private hash: Hash | Hmac;

  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }

  update(data: Uint8Array | string): void {
    this.hash.update(toBuffer(data));
  }

  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }

  reset(): void {
    this.hash = this.fresh();
  }
}

export interface SignableRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface SigV4SignerOptions {
  region: string;
  /** Default `execute-api`. */
  service?: string;
  credentials: AwsCredentialIdentity | Provider<AwsCredentialIdentity>;
  /** Clock (tests). */
  now?: () => Date;
  /** Add `x-amz-content-sha256` (default true; the AWS test-suite vectors are computed without it). */
  applyChecksum?: boolean;
}

export type RequestSigner = (request: SignableRequest) => Promise<Record<string, string>>;

/**
 * A signer that returns the headers to send: the request's own headers plus `host`, `x-amz-date`,
 * `authorization` (and `x-amz-security-token` for temporary credentials, `x-amz-content-sha256`
 * unless disabled).
 */
export function createSigV4Signer(options: SigV4SignerOptions): RequestSigner {
  const signer = new SignatureV4({
    service: options.service ?? 'execute-api',
    region: options.region,
    credentials: options.credentials,
    sha256: NodeSha256,
    applyChecksum: options.applyChecksum ?? true,
  });
  return async (request) => {
    const url = new URL(request.url);
    const query: Record<string, string | string[]> = {};
    for (const [key, value] of url.searchParams) {
      const existing = query[key];
      query[key] = existing === undefined ? value : [...[existing].flat(), value];
    }
    const headers: Record<string, string> = { host: url.host };
    for (const [key, value] of Object.entries(request.headers ?? {})) headers[key.toLowerCase()] = value;
    const signed = await signer.sign(
      {
        method: request.method.toUpperCase(),
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query,
        headers,
        ...(request.body !== undefined ? { body: request.body } : {}),
      },
      options.now ? { signingDate: options.now() } : {},
    );
    return { ...signed.headers };
  };
}

/** The region of an `https://<id>.execute-api.<region>.amazonaws.com` URL, if it is one. */
export function regionFromApiUrl(url: string): string | undefined {
  const match = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/i.exec(new URL(url).hostname);
  return match?.[1];
}
