/**
 * The local credential vault behind `npm start` and the tests: one JSON file per connection under
 * a directory (default `.local/vault/`), directory 0700 and files 0600, each write atomic (temp
 * file + rename, so a reader never sees half a secret). Like Secrets Manager, a secret scheduled
 * for deletion stays on disk (with its deletion date) but can no longer be read; `put` restores it
 * (Secrets Manager needs RestoreSecret first; here a reconnect simply overwrites it).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { type ConnectionSecrets, ConnectionSecretMissingError, type CredentialVault, type GetSecretsOptions, assertValidConnectionId, parseConnectionSecrets } from './vault';

interface StoredSecret {
  connectionId: string;
  secrets: unknown;
  createdAt: string;
  updatedAt: string;
  /** Set by scheduleDeletion: the secret is unreadable from then on. */
  deletionDate?: string;
}

export interface LocalVaultOptions {
  dir?: string;
  now?: () => Date;
}

export const DEFAULT_LOCAL_VAULT_DIR = '.local/vault';

export class LocalFileVault implements CredentialVault {
  readonly dir: string;
  private readonly now: () => Date;

  constructor(options: LocalVaultOptions = {}) {
    this.dir = path.resolve(options.dir ?? DEFAULT_LOCAL_VAULT_DIR);
    this.now = options.now ?? (() => new Date());
  }

  fileFor(connectionId: string): string {
    assertValidConnectionId(connectionId);
    return path.join(this.dir, `${connectionId}.json`);
  }

  private async ensureDir(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await fs.chmod(this.dir, 0o700); // mkdir's mode is masked by umask and ignored for an existing dir
  }

  private async read(connectionId: string): Promise<StoredSecret | undefined> {
    let text: string;
    try {
      // One small file: read at once. The async read costs four thread-pool round trips (open, stat,
      // read, close) on every tax calculation's path, where the deployed vault answers from its cache.
      text = readFileSync(this.fileFor(connectionId), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      return JSON.parse(text) as StoredSecret;
    } catch {
      // Never include the file content: it is a secret.
      throw new ConnectionSecretMissingError(connectionId, 'invalid');
    }
  }

  private async write(connectionId: string, stored: StoredSecret): Promise<void> {
    await this.ensureDir();
    const target = this.fileFor(connectionId);
    const temp = path.join(this.dir, `.${connectionId}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
    const handle = await fs.open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(stored, null, 2), 'utf8');
      await handle.chmod(0o600);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.rename(temp, target);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
  }

  async get(connectionId: string, _opts?: GetSecretsOptions): Promise<ConnectionSecrets> {
    // No cache here, so forceRefresh changes nothing: every read goes to the file.
    const stored = await this.read(connectionId);
    if (!stored) throw new ConnectionSecretMissingError(connectionId, 'not_found');
    if (stored.deletionDate) throw new ConnectionSecretMissingError(connectionId, 'scheduled_for_deletion');
    return parseConnectionSecrets(connectionId, stored.secrets);
  }

  async put(connectionId: string, secrets: ConnectionSecrets): Promise<void> {
    const valid = parseConnectionSecrets(connectionId, secrets);
    const existing = await this.read(connectionId).catch(() => undefined);
    const now = this.now().toISOString();
    await this.write(connectionId, { connectionId, secrets: valid, createdAt: existing?.createdAt ?? now, updatedAt: now });
  }

  async scheduleDeletion(connectionId: string, recoveryWindowDays: number): Promise<void> {
    if (!Number.isInteger(recoveryWindowDays) || recoveryWindowDays < 7 || recoveryWindowDays > 30) {
      // Same bounds as Secrets Manager's RecoveryWindowInDays.
      throw new RangeError('recoveryWindowDays must be an integer from 7 to 30');
    }
    const stored = await this.read(connectionId);
    if (!stored) throw new ConnectionSecretMissingError(connectionId, 'not_found');
    if (stored.deletionDate) return; // already scheduled: keep the first date, as Secrets Manager does
    const deletionDate = new Date(this.now().getTime() + recoveryWindowDays * 86_400_000).toISOString();
    await this.write(connectionId, { ...stored, updatedAt: this.now().toISOString(), deletionDate });
  }

  /** The scheduled deletion date, if any (for status pages and tests). */
  async deletionDate(connectionId: string): Promise<string | undefined> {
    return (await this.read(connectionId))?.deletionDate;
  }
}
