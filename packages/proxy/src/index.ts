export type { NetLike, NetLikeServer, NetLikeSocket } from '@elink/protocol';
export { PROXY_DEFAULTS, type ProxyLimits } from './defaults.js';
export { ProxyApp, type ProxyAppOptions, type BoundListener, type ProxyListener, type ProxyStats } from './proxy-app.js';
export { parseForwardSpec, parseListenAddress, type ForwardSpec } from './forward-spec.js';
export { readAuthFile, type ProxyAuth } from './auth.js';
export { dial, DialError, type DialFailure } from './dial.js';
