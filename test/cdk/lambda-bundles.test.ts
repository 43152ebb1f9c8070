import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildStack, removeOutdirs, SYNTH_TIMEOUT_MS } from './synth.js';

afterAll(removeOutdirs);

/**
 * The Lambda bundles leave the native modules out (cdk/lib/spool-function.ts): each must load
 * without them, from a directory with no node_modules, as it will in Lambda.
 */
describe('Lambda bundles', () => {
  it(
    'load and export a handler without the native modules',
    async () => {
      const { app } = buildStack();
      const assembly = app.synth();
      const bundles = readdirSync(assembly.directory)
        .map((entry) => join(assembly.directory, entry, 'index.mjs'))
        .filter((file) => existsSync(file));
      expect(bundles).toHaveLength(3);
      for (const bundle of bundles) {
        const module = (await import(pathToFileURL(bundle).href)) as { handler?: unknown };
        expect(typeof module.handler).toBe('function');
      }
    },
    SYNTH_TIMEOUT_MS,
  );
});
