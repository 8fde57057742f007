/**
 * The Kubernetes material cannot be applied here (no cluster), so at least every manifest
 * must parse and the configs it mounts must be valid for the `elink` they run.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig, overridesFromEnv } from './config.js';

const k8s = fileURLToPath(new URL('../../../k8s/', import.meta.url));

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : e.name.endsWith('.yaml') ? [join(dir, e.name)] : [],
  );
}

describe('k8s manifests', () => {
  it('parse as YAML, and every workload runs the elink image', () => {
    const files = yamlFiles(k8s);
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const f of files) {
      for (const doc of parseAllDocuments(readFileSync(f, 'utf8'))) {
        expect(doc.errors, f).toEqual([]);
        const obj = doc.toJS() as { kind?: string; spec?: { template?: { spec?: { containers?: { image: string; args: string[] }[] } } } };
        const containers = obj.spec?.template?.spec?.containers ?? [];
        for (const c of containers) if (c.image !== 'redis:7') expect(c.image, f).toBe('emotion-link');
      }
    }
  });

  it('mount configs that elink broker and elink switch accept, with the secrets from the environment', () => {
    const env = overridesFromEnv({ ELINK_CLUSTER_SECRET: 'a-cluster-secret-of-32-characters', ELINK_ADMIN_TOKEN: 'an-admin-token-of-enough-length' });
    const broker = loadConfig(join(k8s, 'split/config/broker.yaml'), env).config;
    expect(broker.broker.store).toMatchObject({ type: 'redis' });
    expect(broker.broker.clusterSecret).toBe('a-cluster-secret-of-32-characters');
    const sw = loadConfig(join(k8s, 'split/config/switch.yaml'), env).config;
    expect(sw.switch.broker?.clusterSecret).toBe('a-cluster-secret-of-32-characters');
    expect(sw.switch.broker?.keysFile).toBe('/var/lib/elink/broker-keys.json');
    // Files the switch writes are on the state volume, not beside the read-only config.
    expect(sw.switch.replayJournal).toBe('/var/lib/elink/replay.journal');
    // Without the secret the switch config is refused, naming the field.
    expect(() => loadConfig(join(k8s, 'split/config/switch.yaml'))).toThrow(/switch\.broker\.clusterSecret/);
  });
});
