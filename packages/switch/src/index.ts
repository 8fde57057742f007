/**
 * @elink/switch's public surface: what the elink command (packages/cli), the benchmarks and
 * the end-to-end tests use. Internals (tables, guards, ICMP builders, the in-memory test
 * port) stay inside; test helpers live in src/testing/ and are not built into the package.
 */

// The node: listener, sessions, segments, drain, stats.
export { SwitchNode, type SwitchNodeOptions, type SwitchNodeStats } from './node/switch-node.js';
// Every default of a node, in one module (the config schema uses them).
export * from './node/defaults.js';
export { nodeReport, portLabel, type NodeReportLimits } from './node/node-report.js';
export { BrokerLink, segmentLoad, MAX_REPORTED_SEGMENTS, type BrokerLinkOptions } from './node/broker-link.js';
export { ConnectionGuard, type ConnectionGuardOptions, type ConnectionLimits, type RefusalReason } from './node/connection-guard.js';
export { gateTlsServer, ProxyGate, type ProxyGateOptions, type ProxyProtocolOptions } from './node/proxy-gate.js';
export { EventSummary } from './node/event-summary.js';
export { FdBudget, readFdLimit, type FdBudgetOptions } from './node/fd-budget.js';
export type { Traffic, SegmentSnapshot } from './node/metrics.js';
export { setAll } from './node/metrics.js';

// The core: ports, segments, drops, live settings.
export { allocatePortId, type Port, type PortKind } from './core/port.js';
export { createSegment, type Segment, type SegmentContext, type SegmentMode, type SegmentStats, type SessionPlan } from './core/segment.js';
export { L2Segment, type AttachOptions } from './core/l2/l2-segment.js';
export { L3Router, L3Segment, type L3RouterOptions } from './core/l3/l3-segment.js';
export { PrefixTable } from './core/l3/prefix-table.js';
export { formatPrefix, parsePrefix, type Prefix } from './core/l3/ip.js';
export { DROP_REASONS, type DropCounts, type DropReason } from './core/drops.js';
export { LIVE_SEGMENT_SETTINGS, liveSettingsChanged, withLiveSettings } from './core/segment-settings.js';

// Ports and admission (what a trunk or another transport builds on).
export { Session, type SessionHost, type SessionState } from './ports/session.js';
export { DevicePort, type DevicePortOptions } from './ports/device-port.js';
export { admit, type Admission, type AdmissionState } from './admission/admit.js';
export { ReplayCache, type ReplayVerdict } from './admission/replay-cache.js';
export { Revocations, revokes, MAX_NODE_REVOCATIONS } from './admission/revocations.js';
export { sessionTicketKeys, SESSION_TICKET_KEYS_LENGTH } from './node/session-ticket-keys.js';

// Trunks between nodes (one segment across many nodes).
export { TrunkHub, parsePeer, type TrunkHubOptions, type TrunkPeer, type TrunkStats } from './trunk/trunk-hub.js';
export { DEFAULT_TRUNK, DEFAULT_TRUNK_PORT, type TrunkSettings } from './trunk/trunk-defaults.js';
export { trunkSegmentId } from './trunk/segment-id.js';
export { checkTrunkTrust, trunkCredentials, type ClusterCaFiles, type TrunkCredentials } from './trunk/trunk-credentials.js';
export type { EndpointListener, RemoteVerdict, MoveLimits } from './core/endpoints.js';

// DTCP tunnel server (docs/dtcp.md): the line protocol on a node, digest and leases through a broker.
export { DtcpServer, type DtcpServerOptions } from './dtcp/dtcp-server.js';
export { BrokerDtcpAuthority, type BrokerDtcpAuthorityOptions, type DtcpAuthority } from './dtcp/dtcp-authority.js';
export { DEFAULT_DTCP, DEFAULT_DTCP_PORT, DTCP_MAX_LINE, type DtcpSettings } from './dtcp/dtcp-defaults.js';
export { DTCP_FAILURES, type DtcpFailure } from './dtcp/dtcp-metrics.js';
export {
  openSixInFourPlane,
  SIX_IN_FOUR_DROP_REASONS,
  type SixInFourTunnelSpec,
  type SixInFourTunnel,
  type SixInFourPlane,
  type SixInFourOptions,
  type SixInFourDropReason,
} from './dtcp/six-in-four.js';
