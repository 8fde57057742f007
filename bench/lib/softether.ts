import type { SystemDef } from './system.js';
export function softetherSystem(): SystemDef {
  return { id: 'softether', label: 'SoftEther', start: () => Promise.reject(new Error('todo')) };
}
