/**
 * One SOCKS5 client connection: greeting, optional username/password, one CONNECT
 * through the segment, then a relay. Handshake bytes are buffered up to one message
 * (MAX_HANDSHAKE_MESSAGE); bytes a client sends early, after its request, go to the
 * destination once connected.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { dial, DialError, type DialFailure } from './dial.js';
import type { NetLike } from '@elink/protocol';
import { relay } from './relay.js';
import { credentialsMatch, type ProxyAuth } from './auth.js';
import {
  Command,
  encodeAuthStatus,
  encodeMethodChoice,
  encodeReply,
  MAX_HANDSHAKE_MESSAGE,
  Method,
  parseGreeting,
  parseRequest,
  parseUserPass,
  Reply,
  type Parsed,
  type SocksRequest,
} from './socks5-codec.js';

export interface Socks5Context {
  net: NetLike;
  auth?: ProxyAuth;
  connectTimeoutMs: number;
  handshakeTimeoutMs: number;
  idleTimeoutMs: number;
  logger: Logger;
}

const REPLY_FOR: Record<DialFailure, number> = {
  refused: Reply.CONNECTION_REFUSED,
  unreachable: Reply.HOST_UNREACHABLE,
  network: Reply.NETWORK_UNREACHABLE,
  not_found: Reply.HOST_UNREACHABLE,
  timeout: Reply.HOST_UNREACHABLE,
  error: Reply.GENERAL_FAILURE,
};

type Stage = 'greeting' | 'auth' | 'request' | 'connecting';

export function handleSocks5(socket: Socket, ctx: Socks5Context): void {
  const log = ctx.logger.child({ client: `${socket.remoteAddress}:${socket.remotePort}`, via: 'socks5' });
  let stage: Stage = 'greeting';
  let buf: Buffer = Buffer.alloc(0);
  const onHandshakeTimeout = () => {
    log.info({ stage }, 'socks5 handshake timed out');
    socket.destroy();
  };
  socket.setTimeout(ctx.handshakeTimeoutMs, onHandshakeTimeout);
  socket.on('error', (err) => log.debug({ err: err.message }, 'client socket error'));

  const fail = (why: string, reply?: Buffer) => {
    log.info({ stage, why }, 'socks5 request refused');
    socket.removeListener('data', onData);
    if (reply) socket.end(reply);
    else socket.destroy();
  };

  /** Runs `parse` on the buffer; on a message, drops its bytes and returns it. */
  const take = <T>(parse: (b: Uint8Array) => Parsed<T>): T | undefined | null => {
    const r = parse(buf);
    if ('need' in r) {
      if (buf.length >= MAX_HANDSHAKE_MESSAGE) fail('handshake message too long');
      return undefined;
    }
    if ('error' in r) {
      fail(r.error, r.reply !== undefined ? encodeReply(r.reply) : undefined);
      return null;
    }
    buf = buf.subarray(r.used);
    return r.value;
  };

  const onData = (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    for (;;) {
      if (stage === 'greeting') {
        const g = take(parseGreeting);
        if (!g) return;
        const want = ctx.auth ? Method.USER_PASS : Method.NO_AUTH;
        if (!g.methods.includes(want)) {
          return fail(`client offers methods [${g.methods.join(', ')}], not ${want}`, encodeMethodChoice(Method.NONE_ACCEPTABLE));
        }
        socket.write(encodeMethodChoice(want));
        stage = ctx.auth ? 'auth' : 'request';
      } else if (stage === 'auth') {
        const c = take(parseUserPass);
        if (!c) return;
        if (!credentialsMatch(ctx.auth!, c.user, c.password)) return fail('wrong user name or password', encodeAuthStatus(false));
        socket.write(encodeAuthStatus(true));
        stage = 'request';
      } else if (stage === 'request') {
        const r = take(parseRequest);
        if (!r) return;
        if (r.command !== Command.CONNECT) return fail(`command ${r.command} not supported`, encodeReply(Reply.COMMAND_NOT_SUPPORTED));
        if (r.port === 0) return fail('destination port 0', encodeReply(Reply.HOST_UNREACHABLE));
        stage = 'connecting';
        // dial() has its own deadline; the relay sets the idle one.
        socket.setTimeout(0);
        socket.removeListener('timeout', onHandshakeTimeout);
        socket.removeListener('data', onData);
        socket.pause();
        void connect(r, buf);
        return;
      } else return;
      if (buf.length === 0) return;
    }
  };

  const connect = async (r: SocksRequest, early: Buffer) => {
    const gone = new AbortController();
    const onClose = () => gone.abort();
    socket.once('close', onClose);
    try {
      const remote = await dial(ctx.net, r.host, r.port, ctx.connectTimeoutMs, gone.signal);
      socket.removeListener('close', onClose);
      if (socket.destroyed) return void remote.destroy();
      socket.write(encodeReply(Reply.SUCCEEDED, { address: remote.localAddress, port: remote.localPort }));
      log.debug({ host: r.host, port: r.port }, 'socks5 connected');
      await relay(socket, remote, ctx.idleTimeoutMs, early);
    } catch (e) {
      socket.removeListener('close', onClose);
      const err = e as DialError;
      log.info({ host: r.host, port: r.port, kind: err.kind, code: err.code, err: err.message }, 'socks5 connect failed');
      if (socket.destroyed) return;
      socket.end(encodeReply(REPLY_FOR[err.kind] ?? Reply.GENERAL_FAILURE));
      // The handshake deadline again: a client that never closes after the reply is closed then.
      socket.setTimeout(ctx.handshakeTimeoutMs, () => socket.destroy());
    }
  };

  socket.on('data', onData);
}
