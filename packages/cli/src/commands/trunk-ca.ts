/**
 * `elink trunk-ca init|issue`: the cluster CA for trunks (switch.trunk.ca) and each node's
 * trunk certificate (switch.trunk.cert/.key: DNS subjectAltName = the node id), with
 * @elink/pki, so a cluster needs no OpenSSL recipe (docs/cluster.md "Trunk authentication").
 * Keys are written 0600; nothing is overwritten without --force, and nothing is written
 * when one of the files a step writes already exists (no half-made pair).
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createCertificateAuthority, issueNodeCertificate, type CertificateAuthority } from '@elink/pki';
import { ElError } from '@elink/protocol';
import { parse } from '../args.js';

export const CA_CERT_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca-key.pem';

/**
 * A node id a certificate can name: a DNS-name-like label (letters, digits, '.', '-', '_';
 * at most 64, like node.id), so the subjectAltName reads back as written and the id is a
 * safe file name.
 */
const NODE_ID = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/;

export const trunkCaHelp = `elink trunk-ca — the cluster CA for trunks and each switch node's trunk certificate
(switch.trunk.ca, .cert, .key; docs/cluster.md "Trunk authentication")

Usage:
  elink trunk-ca init --dir DIR [--force]
      a new CA (ECDSA P-256, 10 years): DIR/${CA_CERT_FILE} and DIR/${CA_KEY_FILE} (mode 0600)
  elink trunk-ca issue --dir DIR --node NODE_ID [--out DIR2] [--force]
      a certificate of that CA for one node (2 years, TLS server and client, DNS
      subjectAltName NODE_ID): DIR2/NODE_ID.pem and DIR2/NODE_ID-key.pem (mode 0600)
Options:
  --dir DIR      where the CA is (init: created if missing)
  --node ID      the node's id, as in node.id / --node-id (letters, digits, . - _)
  --out DIR2     where the node's files go (default: --dir)
  --force        replace existing files (default: refuse)
Every node gets ca.pem, its own NODE_ID.pem and NODE_ID-key.pem; keep ca-key.pem off
the nodes. A restart of the node applies a new certificate.`;

export async function trunkCaCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { dir: { type: 'string' }, node: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, true);
  const [action, extra] = positionals;
  if (values.help || !action) return void console.log(trunkCaHelp);
  if (extra !== undefined) throw new ElError('EL_ERR_INVALID', `unexpected argument "${extra}" (see --help)`);
  if (!values.dir) throw new ElError('EL_ERR_INVALID', `elink trunk-ca ${action} needs --dir DIR (see --help)`);
  const force = values.force === true;
  switch (action) {
    case 'init': {
      if (values.node !== undefined || values.out !== undefined) throw new ElError('EL_ERR_INVALID', '--node and --out are options of `elink trunk-ca issue`');
      const written = await initTrunkCa(values.dir, force);
      console.log(`wrote the cluster CA for trunks: ${written.cert} and ${written.key} (keep the key off the nodes)`);
      console.log(`next, for each node: elink trunk-ca issue --dir ${values.dir} --node NODE_ID`);
      return;
    }
    case 'issue': {
      if (values.node === undefined) throw new ElError('EL_ERR_INVALID', 'elink trunk-ca issue needs --node NODE_ID (see --help)');
      const written = await issueTrunkCertificate(values.dir, values.node, values.out ?? values.dir, force);
      console.log(`wrote the trunk certificate of node ${values.node} (valid until ${written.validTo}): ${written.cert} and ${written.key}`);
      console.log(`its config (node.id: ${values.node}; the paths where that node has the files, ca-key.pem stays here):\n  switch:\n    trunk:\n      ca: ${written.ca}\n      cert: ${written.cert}\n      key: ${written.key}`);
      // A running cluster on the secret would split while nodes take the CA one by one.
      console.log('(a cluster already running on the trunk secret: add `requireCert: false` there too until every node has its certificate; docs/cluster.md "Moving onto a cluster CA, or off it")');
      return;
    }
    default:
      throw new ElError('EL_ERR_INVALID', `unknown action "${action}" (init, issue)`);
  }
}

/** Makes a CA in `dir`: the paths of its certificate and key. */
export async function initTrunkCa(dir: string, force: boolean): Promise<{ cert: string; key: string }> {
  const cert = resolve(dir, CA_CERT_FILE);
  const key = resolve(dir, CA_KEY_FILE);
  refuseExisting([cert, key], force, 'a CA exists there; pass --force to replace it (the certificates it issued stop being trusted by nodes given the new ca.pem)');
  const ca = await createCertificateAuthority('Emotion Link trunk CA');
  mkdirSync(resolve(dir), { recursive: true, mode: 0o700 });
  writeNew(key, ca.keyPem, 0o600, force);
  writeNew(cert, ca.certPem, 0o644, force);
  return { cert, key };
}

/** Issues `node`'s trunk certificate from the CA in `dir` into `out`. */
export async function issueTrunkCertificate(dir: string, node: string, out: string, force: boolean): Promise<{ ca: string; cert: string; key: string; validTo: string }> {
  if (!NODE_ID.test(node)) throw new ElError('EL_ERR_INVALID', `--node "${node}" is not a node id a certificate can name: 1-64 letters, digits, '.', '-' or '_', starting and ending with a letter or digit`);
  const ca = readCa(dir);
  const cert = resolve(out, `${node}.pem`);
  const key = resolve(out, `${node}-key.pem`);
  refuseExisting([cert, key], force, 'pass --force to replace them');
  let issued: Awaited<ReturnType<typeof issueNodeCertificate>>;
  try {
    issued = await issueNodeCertificate(ca.authority, node);
  } catch (e) {
    throw new ElError('EL_ERR_INVALID', `${ca.keyPath} cannot sign with the CA of ${ca.certPath} (an ECDSA P-256 key, as \`elink trunk-ca init\` writes, is needed): ${(e as Error).message}`);
  }
  // A ca-key.pem of another CA would sign certificates no node trusts: refuse them here.
  const x = new X509Certificate(issued.certPem);
  if (!x.verify(ca.cert.publicKey)) throw new ElError('EL_ERR_INVALID', `${ca.keyPath} is not the key of ${ca.certPath}: restore the CA's own key, or make a new CA (elink trunk-ca init --force)`);
  mkdirSync(resolve(out), { recursive: true, mode: 0o700 });
  writeNew(key, issued.keyPem, 0o600, force);
  writeNew(cert, issued.certPem, 0o644, force);
  return { ca: ca.certPath, cert, key, validTo: new Date(x.validTo).toISOString() };
}

function readCa(dir: string): { authority: CertificateAuthority; cert: X509Certificate; certPath: string; keyPath: string } {
  const certPath = resolve(dir, CA_CERT_FILE);
  const keyPath = resolve(dir, CA_KEY_FILE);
  const missing = [certPath, keyPath].filter((p) => !existsSync(p));
  if (missing.length > 0) throw new ElError('EL_ERR_INVALID', `no cluster CA in ${resolve(dir)} (missing ${missing.join(', ')}): make one with \`elink trunk-ca init --dir ${dir}\`, or point --dir at the CA's directory`);
  const certPem = readFileSync(certPath, 'utf8');
  const keyPem = readFileSync(keyPath, 'utf8');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (e) {
    throw new ElError('EL_ERR_INVALID', `${certPath} is not a PEM certificate (${(e as Error).message})`);
  }
  if (!cert.ca) throw new ElError('EL_ERR_INVALID', `${certPath} is not a CA certificate (basicConstraints CA:FALSE)`);
  if (!/-----BEGIN PRIVATE KEY-----/.test(keyPem)) throw new ElError('EL_ERR_INVALID', `${keyPath} is not a PKCS#8 PEM private key (BEGIN PRIVATE KEY), as \`elink trunk-ca init\` writes`);
  return { authority: { certPem, keyPem }, cert, certPath, keyPath };
}

function refuseExisting(paths: string[], force: boolean, hint: string): void {
  if (force) return;
  const there = paths.filter((p) => existsSync(p));
  if (there.length > 0) throw new ElError('EL_ERR_INVALID', `${there.join(' and ')} ${there.length > 1 ? 'exist' : 'exists'}: ${hint}`);
}

/** Creates `path` with `mode` (never widening an old file's: a replaced file is removed first). */
function writeNew(path: string, text: string, mode: number, force: boolean): void {
  if (force && existsSync(path)) unlinkSync(path);
  writeFileSync(path, text, { mode, flag: 'wx' });
}
