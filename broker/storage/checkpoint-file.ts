import { open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Small files that must never be seen half-written (recovery point, log start offset, leader
 * epochs). Written to a temporary file, fsynced, renamed over the target, and the directory fsynced
 * so the rename itself survives a crash.
 */
export async function writeFileAtomically(path: string, contents: string): Promise<void> {
  const tmp = `${path}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(contents, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  await syncDirectory(dirname(path));
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Reads a file, or returns null if it does not exist. */
export async function readFileIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export async function removeFileIfExists(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Single-offset checkpoints use Kafka's text layout: a version line, then the value. Returns null
 * when the file is missing or unreadable, in which case the caller must fall back to recovery.
 */
export async function readOffsetCheckpoint(path: string): Promise<number | null> {
  const text = await readFileIfExists(path);
  if (text === null) return null;
  const lines = text.trim().split('\n');
  if (lines.length !== 2 || lines[0] !== '0') return null;
  const value = Number(lines[1]);
  return Number.isSafeInteger(value) && value >= 0 ? value : null;
}

export function writeOffsetCheckpoint(path: string, offset: number): Promise<void> {
  return writeFileAtomically(path, `0\n${offset}\n`);
}
