// The ESM preload entry: `node --import preheat/register app.mjs`. Same agent as ./index.js.
import { createRequire } from 'node:module';

createRequire(import.meta.url)('./index.js');
