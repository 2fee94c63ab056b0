// Types for `import ... from 'asherah-shim'` (index.mjs): the same declarations as the
// CommonJS entry (index.d.ts), as named exports and as the default export.
import * as shim from './index.js';
export * from './index.js';
export default shim;
