import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readFileIfExists, writeFileAtomically } from './checkpoint-file.js';

export const STORAGE_MARKER_FILE = 'spool-storage.json';

/**
 * Records that a data directory's replicas have been accounted for by the cluster.
 *
 * A broker that starts without the marker cannot vouch for anything it is listed as holding: the
 * directory may be a brand-new volume (an ECS task replacement deletes the old one; cdk/lib/
 * brokers.ts) or a wiped disk, while the cluster still counts this node id in ISRs. Such a broker
 * registers as *rejoining* and writes the marker only once the controller has taken it out of
 * every ISR it shared with another replica (cluster/storage-rejoin.ts). Invariant: while the
 * marker is absent, this broker is never elected leader from a stale ISR membership.
 *
 * The marker is written after the rejoin completes, never before: a crash in between just repeats
 * the rejoin on the next start, which is idempotent.
 */
export class StorageMarker {
  private constructor(
    private readonly path: string,
    private presentValue: boolean,
  ) {}

  static async open(dataDir: string): Promise<StorageMarker> {
    await mkdir(dataDir, { recursive: true });
    const path = join(dataDir, STORAGE_MARKER_FILE);
    return new StorageMarker(path, (await readFileIfExists(path)) !== null);
  }

  /** Whether this directory's contents are already known to the cluster. */
  get present(): boolean {
    return this.presentValue;
  }

  async write(): Promise<void> {
    await writeFileAtomically(
      this.path,
      `${JSON.stringify({ version: 1, since: new Date().toISOString() })}\n`,
    );
    this.presentValue = true;
  }
}
