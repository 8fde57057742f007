/**
 * A node's trunk credentials with a cluster CA (`switch.trunk.ca`, `.cert`, `.key`), checked
 * and built once: the TLS context the trunk listener and the dialer use, and the keys of
 * the hello proof. Built before anything changes (start, config reload), so a key that does
 * not match its certificate or a CA file that does not parse leaves the running ones as
 * they are.
 *
 * The CA file may hold several certificates (a bundle: the old and the new CA while one
 * replaces the other). Without a secret the hello proof is keyed by a CA (trunk-auth.ts):
 * this node signs with the CA that issued its own certificate, the one its peers must trust
 * anyway, and accepts a proof keyed by any CA of its bundle, so nodes holding [old],
 * [old, new] and [new] in any order reach each other as far as TLS lets them.
 */
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import { ElError } from '@elink/protocol';

export interface ClusterCaFiles {
  ca: string | Buffer;
  cert: string | Buffer;
  key: string | Buffer;
}

export interface TrunkCredentials {
  /** The files as given (a reload compares new contents against them). */
  readonly files: ClusterCaFiles;
  /** Certificate, key and CA for both directions: the listener and the dialer. */
  readonly context: SecureContext;
  /** The CA certificates of the bundle, in file order, parsed and as PEM (each parsed on its
   * own: X509Certificate reads only the first certificate of a PEM string). */
  readonly cas: readonly X509Certificate[];
  readonly caPems: readonly string[];
  /** The proof key this node sends: the CA that issued its certificate (else the first). */
  readonly proofKey: string;
  /** Proof keys accepted from a peer: one per CA of the bundle. */
  readonly proofKeys: readonly string[];
  /** The node's certificate was not issued by a CA of the bundle (peers may still trust it). */
  readonly issuerMissing: boolean;
}

/** Most certificates read from one CA file: a bundle during a rotation holds a few. */
export const MAX_CA_CERTIFICATES = 64;

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The key of the hello proof keyed by a CA (no secret): its fingerprint. */
export function caProofKey(ca: X509Certificate): string {
  return `ca:${ca.fingerprint256}`;
}

/** Checks and builds; throws EL_ERR_TRUNK_CERT naming the field at fault. */
export function trunkCredentials(files: ClusterCaFiles): TrunkCredentials {
  const caPems = String(files.ca).match(PEM_CERTIFICATE) ?? [];
  const cas = parseCaBundle(caPems);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(files.cert);
  } catch (err) {
    throw new ElError('EL_ERR_TRUNK_CERT', `switch.trunk.cert is not a PEM certificate: ${(err as Error).message}`);
  }
  let context: SecureContext;
  try {
    context = createSecureContext({ ca: caPems, cert: files.cert, key: files.key, minVersion: 'TLSv1.3' });
  } catch (err) {
    throw new ElError('EL_ERR_TRUNK_CERT', `switch.trunk.key does not load with switch.trunk.cert (not their key, or not a PEM key): ${(err as Error).message}`);
  }
  const issuer = cas.find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
  return { files, context, cas, caPems, proofKey: caProofKey(issuer ?? cas[0]!), proofKeys: cas.map(caProofKey), issuerMissing: issuer === undefined };
}

/** Throws EL_ERR_CONFIG when no peer could prove itself: neither a secret nor a CA, or peers
 * without a certificate admitted (requireCert off) with no secret to check them by. */
export function checkTrunkTrust(secret: string, ca: TrunkCredentials | undefined, requireCert: boolean): void {
  if (secret === '' && !ca) throw new ElError('EL_ERR_CONFIG', 'trunks need a secret (switch.trunk.secret) or a cluster CA (switch.trunk.ca); a secret set or changed since start takes a restart');
  if (secret === '' && !requireCert) throw new ElError('EL_ERR_CONFIG', 'switch.trunk.requireCert: false admits peers without a certificate on the secret alone, and this node has none (switch.trunk.secret or switch.broker.clusterSecret; set at start)');
}

function parseCaBundle(blocks: string[]): X509Certificate[] {
  if (blocks.length === 0) throw new ElError('EL_ERR_TRUNK_CERT', 'switch.trunk.ca holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
  if (blocks.length > MAX_CA_CERTIFICATES) throw new ElError('EL_ERR_TRUNK_CERT', `switch.trunk.ca holds ${blocks.length} certificates; at most ${MAX_CA_CERTIFICATES}`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new ElError('EL_ERR_TRUNK_CERT', `switch.trunk.ca: certificate ${i + 1} of ${blocks.length} does not parse: ${(err as Error).message}`);
    }
  });
}

/** True when a CA of `cas` is in `chain` (a chain verified before) or issued one of it: the
 * chain would verify under `cas` too. */
export function anchoredIn(chain: readonly X509Certificate[], cas: readonly X509Certificate[]): boolean {
  return chain.some((c) => cas.some((ca) => ca.fingerprint256 === c.fingerprint256 || (c.checkIssued(ca) && c.verify(ca.publicKey))));
}
