export * from './prefix-table.js';
export * from './ip.js';
export * from './icmp.js';
export * from './l3-segment.js';
