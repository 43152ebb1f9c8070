import { type ChildProcess, execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** Runs the real `spool` CLI as child processes, the way a user does. */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  /** false: do not add --bootstrap (help, dev). */
  bootstrap?: boolean;
  /** 'bin': through the npm bin cli/bin.js; default: `node --import tsx cli/spool.ts`. */
  entry?: 'bin';
  input?: string;
  timeoutMs?: number;
  /** Called with the child once it is spawned (to signal it). */
  onSpawn?: (child: ChildProcess) => void;
}

/** `spool`, `ok` and `expectOneLineError` bound to a cluster's bootstrap list (read at each call). */
export function spoolCli(bootstrap: () => string) {
  function spool(args: string[], options: CliRunOptions = {}): Promise<CliResult> {
    const entry = options.entry === 'bin' ? ['cli/bin.js'] : ['--import', 'tsx', 'cli/spool.ts'];
    const full = options.bootstrap === false ? args : ['--bootstrap', bootstrap(), ...args];
    return new Promise((done) => {
      const child = execFile(
        process.execPath,
        [...entry, ...full],
        {
          cwd: ROOT,
          timeout: options.timeoutMs ?? 30_000,
          env: { ...process.env, SPOOL_BOOTSTRAP: undefined },
          maxBuffer: 64 * 1024 * 1024,
        },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
          done({ code, stdout, stderr });
        },
      );
      child.stdin?.end(options.input ?? '');
      options.onSpawn?.(child);
    });
  }

  /** Runs `spool ...args`, expects exit 0 and returns stdout. */
  async function ok(args: string[], input?: string): Promise<string> {
    const result = await spool(args, { input });
    expect(result, `spool ${args.join(' ')}: ${result.stderr}`).toMatchObject({ code: 0 });
    return result.stdout;
  }

  return { spool, ok };
}

/** Exit 1, nothing on stdout, one `error: ...` line on stderr matching `pattern`. */
export function expectOneLineError(result: CliResult, pattern: RegExp): void {
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr.trim()).toMatch(pattern);
}
