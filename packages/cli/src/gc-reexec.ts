/**
 * Imported first by main.ts, so it runs before any other module is evaluated: a serving
 * command re-executes itself with V8's memory reducer off (gc-tuning.ts).
 */
import { reexecWithGcFlags } from './gc-tuning.js';

reexecWithGcFlags(process.argv.slice(2));
