export * from './builder.js';
export * from './compression.js';
export * from './decode.js';
export * from './encode.js';
export * from './header.js';
export * from './layout.js';
export type * from './types.js';
