/**
 * The trunks' cluster CA credentials are checked before they are used (start, reload): a key
 * that is not the certificate's and a CA file that does not parse are refused naming the
 * field; a bundle of CAs keys the hello proof by the CA that issued this node's certificate
 * and accepts a proof keyed by any of them.
 */
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority, issueNodeCertificate } from '@elink/pki';
import { anchoredIn, caProofKey, trunkCredentials } from './trunk-credentials.js';

describe('trunkCredentials', async () => {
  const oldCa = await createCertificateAuthority('old cluster CA');
  const newCa = await createCertificateAuthority('new cluster CA');
  const oldCert = await issueNodeCertificate(oldCa, 'sw-0');
  const newCert = await issueNodeCertificate(newCa, 'sw-0');
  const key = (pem: string): string => caProofKey(new X509Certificate(pem));

  it('keys the proof by the CA that issued the certificate and accepts every CA of the bundle', () => {
    const bundle = oldCa.certPem + newCa.certPem;
    const before = trunkCredentials({ ca: bundle, cert: oldCert.certPem, key: oldCert.keyPem });
    expect(before.proofKey).toBe(key(oldCa.certPem));
    expect(before.proofKeys).toEqual([key(oldCa.certPem), key(newCa.certPem)]);
    const after = trunkCredentials({ ca: bundle, cert: newCert.certPem, key: newCert.keyPem });
    expect(after.proofKey).toBe(key(newCa.certPem));
    expect(after.issuerMissing).toBe(false);
    // A certificate no CA of the file issued: usable (peers may trust it), but said.
    const foreign = trunkCredentials({ ca: newCa.certPem, cert: oldCert.certPem, key: oldCert.keyPem });
    expect(foreign.issuerMissing).toBe(true);
    expect(foreign.proofKey).toBe(key(newCa.certPem));
  });

  it('refuses a key that is not the certificate’s, naming switch.trunk.key', () => {
    expect(() => trunkCredentials({ ca: newCa.certPem, cert: newCert.certPem, key: oldCert.keyPem })).toThrow(expect.objectContaining({ code: 'EL_ERR_TRUNK_CERT', message: expect.stringContaining('switch.trunk.key') }));
  });

  it('refuses a CA file that holds no certificate or one that does not parse, naming switch.trunk.ca', () => {
    for (const ca of ['not a certificate', `${newCa.certPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`]) {
      expect(() => trunkCredentials({ ca, cert: newCert.certPem, key: newCert.keyPem })).toThrow(expect.objectContaining({ code: 'EL_ERR_TRUNK_CERT', message: expect.stringContaining('switch.trunk.ca') }));
    }
  });

  it('refuses a certificate file that is not a certificate, naming switch.trunk.cert', () => {
    expect(() => trunkCredentials({ ca: newCa.certPem, cert: newCert.keyPem, key: newCert.keyPem })).toThrow(expect.objectContaining({ code: 'EL_ERR_TRUNK_CERT', message: expect.stringContaining('switch.trunk.cert') }));
  });

  it('tells whether a verified chain still verifies under another set of CAs', () => {
    const [o, n] = [new X509Certificate(oldCa.certPem), new X509Certificate(newCa.certPem)];
    const leaf = new X509Certificate(oldCert.certPem);
    expect(anchoredIn([leaf], [n, o])).toBe(true);
    expect(anchoredIn([leaf, o], [o])).toBe(true);
    expect(anchoredIn([leaf], [n])).toBe(false);
    expect(anchoredIn([leaf, o], [n])).toBe(false);
    expect(anchoredIn([], [n])).toBe(false);
  });
});
