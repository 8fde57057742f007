export * from './errors.js';
export * from './records.js';
export * from './record-reader.js';
export * from './control.js';
export * from './ticket.js';
export * from './mac.js';
export * from './segment.js';
export * from './gso.js';
