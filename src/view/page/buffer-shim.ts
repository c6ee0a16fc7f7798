/**
 * Node's Buffer for the page: synack's pure modules (layers, dissect, show, the printer, the
 * filter compiler) work on Buffers. esbuild injects this wherever they name `Buffer`.
 */
import { Buffer } from 'buffer';

export { Buffer };
