#!/usr/bin/env node
/**
 * npm run bench:broker — logins per second through the built `elink broker`:
 * memory store with one broker; Redis (a real redis-server on a free port) with one
 * and with three brokers. Each run: CONCURRENCY clients for SECONDS, logins over HTTPS
 * spread round-robin over the brokers, devices cycled over 2000 ids (sticky leases).
 * scrypt (ln=14) dominates a login, so the figures are CPU-bound: quote the machine.
 * Beside each, device logins (POST /v1/login/device: an Ed25519 signature instead of the
 * hash) for 64 devices whose keys a password login registered first (not timed).
 *
 *   BENCH_SECONDS=10 BENCH_CONCURRENCY=32 npm run bench:broker
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { request as httpRequest } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { freeTcpPort, startTestRedis } from '../../packages/broker/dist/store/test-redis.js';
import { rawDeviceKey, signDeviceLogin } from '../../packages/protocol/dist/index.js';

/** Devices with a registered key in the device-login runs (the store keeps 64 per user). */
const DEVICES = 64;

const CLI = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const PASSWORD = 'bench password 123';

function state(store) {
  const dir = mkdtempSync(join(tmpdir(), 'elink-bench-broker-'));
  const init = spawnSync(process.execPath, [CLI, 'init', '--state', dir], { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(init.stderr);
  writeFileSync(join(dir, 'pw'), `${PASSWORD}\n`);
  const add = spawnSync(process.execPath, [CLI, 'user', 'add', 'bench', '--segment', 'lab', '--password-file', join(dir, 'pw'), '--state', dir], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(add.stderr);
  const file = join(dir, 'elink.yaml');
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.setIn(['broker', 'store'], doc.createNode(store));
  doc.setIn(['broker', 'nodes'], doc.createNode([{ node: 'sw', host: '127.0.0.1', port: 4443 }]));
  doc.setIn(['log', 'level'], 'warn');
  // One user, 2000 devices, CONCURRENCY logins in flight from one address: lift the per-user
  // device cap and the rate limits (attempts in flight count against them).
  doc.setIn(['broker', 'maxDevicesPerUser'], 4000);
  doc.setIn(['broker', 'rateLimit'], doc.createNode({ perUser: 100_000, perAddress: 100_000, perUserTotal: 100_000, window: 60 }));
  writeFileSync(file, doc.toString());
  return dir;
}

async function startBroker(dir) {
  const port = await freeTcpPort();
  const admin = await freeTcpPort();
  const child = spawn(process.execPath, [CLI, 'broker', '--state', dir, '--broker-port', String(port), '--admin-port', String(admin), '--listen-host', '127.0.0.1'], { stdio: 'ignore' });
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await new Promise((r) => httpRequest({ host: '127.0.0.1', port: admin, path: '/readyz', timeout: 1000 }, (res) => (res.resume(), r(res.statusCode === 200))).on('error', () => r(false)).end());
    if (ok) break;
    if (Date.now() > deadline) throw new Error('broker did not become ready');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { port, child };
}

function login(port, ca, agent, device, key) {
  return post(port, ca, agent, '/v1/login', { user: 'bench', password: PASSWORD, device, ...(key ? { deviceKey: rawDeviceKey(key) } : {}) });
}

function deviceLogin(port, ca, agent, device, key) {
  const fields = { user: 'bench', device, time: Math.floor(Date.now() / 1000), nonce: randomBytes(16).toString('base64url') };
  return post(port, ca, agent, '/v1/login/device', { ...fields, signature: signDeviceLogin(key, fields) });
}

function post(port, ca, agent, path, payload) {
  const body = JSON.stringify(payload);
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', ca, agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end(body);
  });
}

async function run(name, store, brokers, device = false) {
  const dir = state(store);
  const procs = await Promise.all(Array.from({ length: brokers }, () => startBroker(dir)));
  const ca = readFileSync(join(dir, 'ca.pem'));
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const keys = device ? Array.from({ length: DEVICES }, () => generateKeyPairSync('ed25519').privateKey) : [];
  // Untimed: each device's password login registers its key.
  for (let i = 0; i < keys.length; i += CONCURRENCY) await Promise.all(keys.slice(i, i + CONCURRENCY).map((k, j) => login(procs[0].port, ca, agent, `k${i + j}`, k)));
  let ok = 0;
  let failed = 0;
  let n = 0;
  const end = Date.now() + SECONDS * 1000;
  const worker = async () => {
    while (Date.now() < end) {
      const i = n++;
      const port = procs[i % procs.length].port;
      if (await (device ? deviceLogin(port, ca, agent, `k${i % DEVICES}`, keys[i % DEVICES]) : login(port, ca, agent, `d${i % 2000}`))) ok++;
      else failed++;
    }
  };
  const t0 = Date.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const secs = (Date.now() - t0) / 1000;
  agent.destroy();
  for (const p of procs) p.child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  const row = { name, login: device ? 'device key' : 'password', brokers, logins: ok, failed, seconds: Number(secs.toFixed(1)), perSecond: Math.round(ok / secs) };
  console.log(JSON.stringify(row));
  return row;
}

const redis = await startTestRedis();
try {
  console.error(`bench:broker: ${cpus().length} CPUs (${cpus()[0]?.model}), ${SECONDS} s per run, ${CONCURRENCY} concurrent clients`);
  const rows = [];
  for (const device of [false, true]) rows.push(await run('memory', { type: 'memory', snapshot: 'store.json' }, 1, device), await run('redis', { type: 'redis', url: redis.url }, 1, device), await run('redis', { type: 'redis', url: redis.url }, 3, device));
  console.log('\n| store | brokers | login | logins/s | failed |\n| --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.name} | ${r.brokers} | ${r.login} | ${r.perSecond} | ${r.failed} |`);
} finally {
  await redis.destroy();
}
