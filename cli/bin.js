#!/usr/bin/env node
// The `spool` npm bin: runs the TypeScript CLI through tsx (a dev dependency), like `npm start`.
import { register } from 'tsx/esm/api';

register();
await import('./spool.ts');
