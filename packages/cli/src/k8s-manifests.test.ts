/**
 * The Kubernetes material cannot be applied here (no cluster), so every manifest is held to
 * the Kubernetes API schemas instead: types, required fields and enums (kubernetes-models),
 * and no field the API does not know (the official client's model of each type, walked key
 * by key: kubernetes-models' validators accept unknown fields). Kustomizations name files
 * that exist and the image they deploy; `kubectl kustomize` renders them when kubectl is
 * installed. The configs the manifests mount must be valid for the `elink` they run, and
 * k8s/cluster keeps its promises (restricted pods, PDBs, drain that fits the grace period,
 * Redis with auth reachable only from the brokers).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join, relative } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import * as k8sModels from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { loadConfig, overridesFromEnv } from './config.js';
import { switchTrunkSettings } from './services.js';

const k8s = fileURLToPath(new URL('../../../k8s/', import.meta.url));

type Obj = Record<string, any>;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : e.name.endsWith('.yaml') ? [join(dir, e.name)] : [],
  );
}

/** Kubernetes objects: every YAML document outside the kustomizations and the mounted elink configs. */
function manifests(dir = k8s): { file: string; obj: Obj }[] {
  return yamlFiles(dir)
    .filter((f) => !f.endsWith('kustomization.yaml') && !f.includes('/config/'))
    .flatMap((file) => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => ({ file: relative(k8s, file), obj: d.toJS() as Obj })));
}

/** The schema (kubernetes-models) of each kind the manifests use; a new kind must be added here. */
const MODELS: Record<string, { new (data: Obj): { validate(): void } }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/DaemonSet': DaemonSet,
  'apps/v1/StatefulSet': StatefulSet,
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

/** The official client's model name: apps/v1 + Deployment → V1Deployment. */
const modelName = (apiVersion: string, kind: string) => `${apiVersion.split('/').pop()!.replace(/^v/, 'V')}${kind}`;

const LEAF_TYPES = new Set(['string', 'number', 'boolean', 'Date', 'any', 'object', 'IntOrString']);

/** Paths of fields in `value` that the type `type` of the Kubernetes API does not have. */
function unknownFields(value: unknown, type: string, path: string, out: string[] = []): string[] {
  if (value === null || value === undefined || LEAF_TYPES.has(type)) return out;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`, out));
    return out;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === 'object') for (const [k, v] of Object.entries(value)) unknownFields(v, map[1]!, `${path}.${k}`, out);
    return out;
  }
  const model = (k8sModels as unknown as Record<string, { getAttributeTypeMap?: () => { baseName: string; type: string }[] }>)[type];
  if (!model?.getAttributeTypeMap) {
    out.push(`${path}: no model of the type ${type}`);
    return out;
  }
  if (typeof value !== 'object' || Array.isArray(value)) return out; // the type check is kubernetes-models'
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    const t = fields.get(k);
    if (t === undefined) out.push(`${path}.${k}: unknown field of ${type}`);
    else unknownFields(v, t, `${path}.${k}`, out);
  }
  return out;
}

/** Everything wrong with one object against the Kubernetes API schemas (empty: valid). */
function schemaProblems(obj: Obj): string[] {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const Model = MODELS[key];
  if (!Model) return [`no schema for ${key}: add it to MODELS`];
  const problems: string[] = [];
  try {
    new Model(obj).validate();
  } catch (err) {
    problems.push((err as Error).message);
  }
  return [...problems, ...unknownFields(obj, modelName(obj.apiVersion, obj.kind), obj.kind)];
}

const workloads = (objs: Obj[]) => objs.filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind));
const containersOf = (o: Obj): Obj[] => o.spec?.template?.spec?.containers ?? [];

describe('k8s manifests', () => {
  it('parse as YAML, and every workload runs the elink image (Redis a pinned redis)', () => {
    const files = yamlFiles(k8s);
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const f of files) {
      for (const doc of parseAllDocuments(readFileSync(f, 'utf8'))) {
        expect(doc.errors, f).toEqual([]);
        const obj = doc.toJS() as Obj;
        for (const c of containersOf(obj)) if (c.image !== 'redis:7') expect(c.image, f).toBe('emotion-link');
      }
    }
  });

  it('are valid against the Kubernetes API schemas, unknown fields included (all-in-one, split, cluster)', () => {
    const all = manifests();
    const dirs = new Set(all.map((m) => m.file.split('/')[0]));
    expect([...dirs].sort()).toEqual(['all-in-one', 'cluster', 'split']);
    expect(all.length).toBeGreaterThanOrEqual(20);
    for (const { file, obj } of all) expect(schemaProblems(obj), `${file}: ${obj.kind} ${obj.metadata?.name}`).toEqual([]);
  });

  it('refuses a misspelled field, a misplaced one, a wrong type and a missing required field (copies of a real manifest)', () => {
    const original = manifests().find((m) => m.file === 'cluster/switch.yaml' && m.obj.kind === 'StatefulSet')!.obj;
    const broken = (edit: (o: Obj) => void) => {
      const copy = structuredClone(original);
      edit(copy);
      return schemaProblems(copy).join('\n');
    };
    expect(broken(() => {})).toBe('');
    expect(broken((o) => (o.spec.template.spec.containers[0].imagePullPolicyy = 'Always'))).toMatch(/containers\[0\]\.imagePullPolicyy: unknown field of V1Container/);
    expect(broken((o) => (o.spec.replica = 3))).toMatch(/StatefulSet\.spec\.replica: unknown field of V1StatefulSetSpec/);
    // Right name, wrong place: terminationGracePeriodSeconds belongs to the pod spec.
    expect(broken((o) => (o.spec.template.spec.containers[0].terminationGracePeriodSeconds = 30))).toMatch(/containers\[0\]\.terminationGracePeriodSeconds: unknown field/);
    expect(broken((o) => (o.spec.template.spec.containers[0].lifecycle.preStop.sleep.second = 5))).toMatch(/sleep\.second: unknown field of V1SleepAction/);
    expect(broken((o) => (o.spec.replicas = 'three'))).toMatch(/replicas.*must be integer/);
    expect(broken((o) => delete o.spec.selector)).toMatch(/spec must have required property '?selector/);
    expect(broken((o) => (o.spec.template.spec.containers[0].ports[0].protocol = 'SCTPX'))).toMatch(/must be equal to one of the allowed values/);
  });

  it('kustomizations name files that exist, only fields kustomize knows, and the image their workloads run', () => {
    const KNOWN = new Set(['apiVersion', 'kind', 'namespace', 'resources', 'configMapGenerator', 'secretGenerator', 'images', 'labels', 'commonLabels', 'patches', 'components']);
    const kustomizations = yamlFiles(k8s).filter((f) => f.endsWith('kustomization.yaml'));
    expect(kustomizations.map((f) => relative(k8s, f)).sort()).toEqual(['all-in-one/kustomization.yaml', 'cluster/bridge/kustomization.yaml', 'cluster/kustomization.yaml', 'split/kustomization.yaml']);
    for (const file of kustomizations) {
      const dir = dirname(file);
      const k = parseYaml(readFileSync(file, 'utf8')) as Obj;
      expect(k, file).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization' });
      for (const key of Object.keys(k)) expect(KNOWN.has(key), `${file}: ${key}`).toBe(true);
      const resources: string[] = k.resources;
      expect(resources.length, file).toBeGreaterThan(0);
      for (const r of resources) {
        const p = join(dir, r);
        expect(existsSync(p), `${file}: resource ${r}`).toBe(true);
        if (statSync(p).isDirectory()) expect(existsSync(join(p, 'kustomization.yaml')), `${file}: ${r} is a kustomize directory`).toBe(true);
      }
      // Every YAML beside the kustomization is one of its resources (none forgotten), except the bridge directory, applied apart.
      const beside = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
      expect(beside.filter((f) => !resources.includes(f)), file).toEqual([]);
      for (const g of k.configMapGenerator ?? []) for (const f of g.files) expect(existsSync(join(dir, f)), `${file}: ${f}`).toBe(true);
      const images = new Set((k.images ?? []).map((i: Obj) => i.name));
      const used = resources.filter((r) => r.endsWith('.yaml')).flatMap((r) => parseAllDocuments(readFileSync(join(dir, r), 'utf8')).flatMap((d) => containersOf(d.toJS() as Obj).map((c) => c.image as string)));
      for (const image of used) expect(images.has(image) || /^[\w./-]+:[\w.-]+$/.test(image), `${file}: ${image} is named in images or pinned`).toBe(true);
      expect(images.has('emotion-link'), file).toBe(true);
    }
  });

  const haveKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!haveKubectl)('render with kubectl kustomize into objects valid against the schemas, the generated ConfigMap referenced by its hashed name', () => {
    for (const dir of ['all-in-one', 'split', 'cluster', 'cluster/bridge']) {
      const out = spawnSync('kubectl', ['kustomize', join(k8s, dir)], { encoding: 'utf8', timeout: 60_000 });
      expect(out.status, `${dir}: ${out.stderr}`).toBe(0);
      const objs = parseAllDocuments(out.stdout).map((d) => d.toJS() as Obj);
      const generated = objs.filter((o) => o.kind === 'ConfigMap').map((o) => o.metadata.name as string);
      for (const o of objs) {
        if (o.kind === 'ConfigMap') continue;
        expect(schemaProblems(o), `${dir}: ${o.kind} ${o.metadata.name}`).toEqual([]);
        for (const v of o.spec?.template?.spec?.volumes ?? []) if (v.configMap) expect(generated, `${dir}: ${o.metadata.name}`).toContain(v.configMap.name);
      }
      if (dir.startsWith('cluster')) for (const o of objs) if (o.kind !== 'Namespace') expect(o.metadata.namespace, `${dir}: ${o.kind}`).toBe(dir === 'cluster' ? 'elink' : 'elink-bridge');
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

describe('k8s/cluster', () => {
  const objs = manifests(join(k8s, 'cluster')).map((m) => m.obj);
  const main = manifests(join(k8s, 'cluster')).filter((m) => !m.file.startsWith('cluster/bridge/')).map((m) => m.obj);
  const find = (kind: string, name: string) => {
    const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
    expect(o, `${kind} ${name}`).toBeDefined();
    return o!;
  };
  const env = (c: Obj, name: string) => (c.env as Obj[]).find((e) => e.name === name);
  const selects = (selector: Obj, labels: Obj) => Object.entries(selector.matchLabels as Obj).every(([k, v]) => labels[k] === v);

  it('runs every pod of the elink namespace under Pod Security "restricted"; only the bridge, elsewhere, has NET_ADMIN', () => {
    expect(find('Namespace', 'elink').metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    const pods = workloads(main);
    expect(pods.map((w) => w.metadata.name).sort()).toEqual(['elink-broker', 'elink-redis', 'elink-switch']);
    for (const w of pods) {
      const spec = w.spec.template.spec;
      const name = w.metadata.name;
      for (const host of ['hostNetwork', 'hostPID', 'hostIPC']) expect(spec[host], `${name} ${host}`).toBeFalsy();
      expect((spec.volumes ?? []).filter((v: Obj) => v.hostPath), name).toEqual([]);
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        const sc = { ...spec.securityContext, ...c.securityContext };
        expect(sc.runAsNonRoot, `${name}/${c.name} runAsNonRoot`).toBe(true);
        expect(sc.runAsUser, `${name}/${c.name} runAsUser`).not.toBe(0);
        expect(sc.seccompProfile?.type, `${name}/${c.name} seccomp`).toMatch(/^(RuntimeDefault|Localhost)$/);
        expect(c.securityContext.allowPrivilegeEscalation, `${name}/${c.name}`).toBe(false);
        expect(c.securityContext.privileged, `${name}/${c.name}`).toBeFalsy();
        expect(c.securityContext.capabilities.drop, `${name}/${c.name}`).toEqual(['ALL']);
        expect(c.securityContext.capabilities.add ?? [], `${name}/${c.name}`).toEqual([]);
        for (const p of c.ports ?? []) expect(p.hostPort, `${name}/${c.name} hostPort`).toBeUndefined();
      }
    }
    const bridge = find('DaemonSet', 'elink-bridge');
    expect(find('Namespace', 'elink-bridge').metadata.labels['pod-security.kubernetes.io/enforce']).toBe('privileged');
    expect(bridge.spec.template.spec.containers[0].securityContext.capabilities.add).toEqual(['NET_ADMIN']);
    expect(bridge.spec.template.spec.volumes.find((v: Obj) => v.hostPath)?.hostPath.path).toBe('/dev/net/tun');
    expect(bridge.spec.template.spec.containers[0].args.slice(0, 3)).toEqual(['bridge', '--attach', 'br-lan']);
    // The bridge is applied apart: the main kustomization does not include it.
    expect((parseYaml(readFileSync(join(k8s, 'cluster/kustomization.yaml'), 'utf8')) as Obj).resources).not.toContain('bridge');
  });

  it('runs 2+ brokers behind a Service and 3 switch nodes with a headless trunk Service and a Local LoadBalancer, spread, with budgets', () => {
    const broker = find('Deployment', 'elink-broker');
    expect(broker.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(find('Service', 'elink-broker').spec.selector).toEqual(broker.spec.selector.matchLabels);
    const sw = find('StatefulSet', 'elink-switch');
    expect(sw.spec.replicas).toBe(3);
    const trunk = find('Service', sw.spec.serviceName);
    expect(trunk.spec.clusterIP).toBe('None');
    expect(trunk.spec.ports).toEqual([{ name: 'trunk', port: 4444, targetPort: 'trunk' }]);
    // Each node tells its peers its own name in the headless Service; clients get the balancer.
    expect(env(sw.spec.template.spec.containers[0], 'ELINK_TRUNK_ADVERTISE')?.value).toBe(`$(POD_NAME).${sw.spec.serviceName}.$(POD_NAMESPACE).svc`);
    const clients = find('Service', 'elink-switch');
    expect(clients.spec).toMatchObject({ type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 4443, targetPort: 'switch' }] });
    for (const w of [broker, sw]) {
      const labels = w.spec.template.metadata.labels;
      const keys = (w.spec.template.spec.topologySpreadConstraints as Obj[]).map((t) => t.topologyKey);
      expect(keys, w.metadata.name).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
      for (const t of w.spec.template.spec.topologySpreadConstraints) expect(selects(t.labelSelector, labels)).toBe(true);
      const pdbs = objs.filter((o) => o.kind === 'PodDisruptionBudget' && selects(o.spec.selector, labels));
      expect(pdbs, w.metadata.name).toHaveLength(1);
      for (const s of objs.filter((o) => o.kind === 'Service' && o.spec.selector?.app === labels.app)) {
        for (const p of s.spec.ports) expect(w.spec.template.spec.containers[0].ports.map((c: Obj) => c.name), `${s.metadata.name} → ${p.targetPort}`).toContain(p.targetPort);
      }
    }
    expect(find('PodDisruptionBudget', 'elink-broker').spec.minAvailable).toBe(1);
    expect(find('PodDisruptionBudget', 'elink-switch').spec.maxUnavailable).toBe(1);
  });

  it('lets Redis answer only the brokers, with a password from a Secret the brokers read, and trunks only the switch nodes', () => {
    const redis = find('StatefulSet', 'elink-redis');
    const c = redis.spec.template.spec.containers[0];
    expect(env(c, 'REDIS_PASSWORD')?.valueFrom.secretKeyRef).toEqual({ name: 'elink-redis', key: 'password' });
    expect(c.args.join(' ')).toContain('--requirepass $(REDIS_PASSWORD)');
    const broker = find('Deployment', 'elink-broker').spec.template.spec.containers[0];
    expect(env(broker, 'ELINK_REDIS_PASSWORD')?.valueFrom.secretKeyRef).toEqual({ name: 'elink-redis', key: 'password' });
    const policies = objs.filter((o) => o.kind === 'NetworkPolicy' && selects(o.spec.podSelector, redis.spec.template.metadata.labels));
    expect(policies).toHaveLength(1);
    const [policy] = policies;
    expect(policy!.spec.policyTypes).toEqual(['Ingress']);
    expect(policy!.spec.ingress).toHaveLength(1);
    const from = policy!.spec.ingress[0].from as Obj[];
    expect(from).toHaveLength(1);
    // The one peer allowed is the broker pods, and no switch pod matches it.
    expect(selects(from[0]!.podSelector, find('Deployment', 'elink-broker').spec.template.metadata.labels)).toBe(true);
    expect(selects(from[0]!.podSelector, find('StatefulSet', 'elink-switch').spec.template.metadata.labels)).toBe(false);
    expect(policy!.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 6379 }]);
    // The trunk port answers only the other switch nodes; clients and Prometheus reach the rest.
    const swLabels = find('StatefulSet', 'elink-switch').spec.template.metadata.labels;
    const swPolicies = objs.filter((o) => o.kind === 'NetworkPolicy' && selects(o.spec.podSelector, swLabels));
    expect(swPolicies).toHaveLength(1);
    const rules = swPolicies[0]!.spec.ingress as Obj[];
    const trunkRules = rules.filter((r) => (r.ports as Obj[]).some((p) => p.port === 4444));
    expect(trunkRules).toHaveLength(1);
    expect(trunkRules[0]!.from).toHaveLength(1);
    expect(selects(trunkRules[0]!.from[0].podSelector, swLabels)).toBe(true);
    expect(selects(trunkRules[0]!.from[0].podSelector, find('Deployment', 'elink-broker').spec.template.metadata.labels)).toBe(false);
    expect(rules.find((r) => !r.from)?.ports).toEqual([{ protocol: 'TCP', port: 4443 }, { protocol: 'TCP', port: 9100 }]);
    // The broker config, with the password from the environment, opens Redis with it.
    const cfg = loadConfig(join(k8s, 'cluster/config/broker.yaml'), overridesFromEnv({ ELINK_CLUSTER_SECRET: 'a-cluster-secret-of-32-characters', ELINK_ADMIN_TOKEN: 'an-admin-token-of-enough-length', ELINK_REDIS_PASSWORD: 'a-redis-password' })).config;
    expect(cfg.broker.store).toEqual({ type: 'redis', url: 'redis://elink-redis:6379/0', password: 'a-redis-password' });
    expect(cfg.admin.port).toBe(9100);
    expect(cfg.broker.listen.port).toBe(8443);
  });

  it('mounts a switch config elink switch accepts: ports as the pod declares them, trunks on the headless Service port, the trunk secret the cluster secret', () => {
    const sw = find('StatefulSet', 'elink-switch');
    const c = sw.spec.template.spec.containers[0];
    const port = (name: string) => (c.ports as Obj[]).find((p) => p.name === name)!.containerPort as number;
    const secret = 'a-cluster-secret-of-32-characters';
    const loaded = loadConfig(join(k8s, 'cluster/config/switch.yaml'), overridesFromEnv({ ELINK_CLUSTER_SECRET: secret, ELINK_NODE_ID: 'elink-switch-1', ELINK_TRUNK_ADVERTISE: 'elink-switch-1.elink-switch-trunk.elink.svc' }));
    const cfg = loaded.config;
    expect(cfg.node.id).toBe('elink-switch-1');
    expect(cfg.switch.listen.port).toBe(port('switch'));
    expect(cfg.admin.port).toBe(port('admin'));
    expect(cfg.switch.trunk?.port).toBe(port('trunk'));
    expect(find('Service', sw.spec.serviceName).spec.ports[0].port).toBe(cfg.switch.trunk?.port);
    expect(cfg.switch.trunk?.advertise).toBe('elink-switch-1.elink-switch-trunk.elink.svc');
    // No static peers: they come from the brokers' heartbeat replies; the trunk secret is the cluster secret.
    expect(cfg.switch.trunk?.peers).toEqual([]);
    expect(switchTrunkSettings(loaded)?.secret).toBe(secret);
    expect(cfg.switch.broker?.urls).toEqual([`https://${find('Service', 'elink-broker').metadata.name}:8443`]);
    expect(cfg.switch.advertise).toBeDefined();
    // The probes ask the port the config serves /readyz on.
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
    // Without the cluster secret there is no trunk secret either: refused, naming the field.
    expect(() => loadConfig(join(k8s, 'cluster/config/switch.yaml'))).toThrow(/switch\.broker\.clusterSecret/);
  });

  it('gives a switch node time to drain: preStop sleep + switch.drainSeconds + closing fit terminationGracePeriodSeconds', () => {
    const sw = find('StatefulSet', 'elink-switch').spec.template.spec;
    const text = readFileSync(join(k8s, 'cluster/config/switch.yaml'), 'utf8');
    const drain = (parseYaml(text) as Obj).switch.drainSeconds as number;
    const preStop = sw.containers[0].lifecycle.preStop.sleep.seconds as number;
    expect(drain).toBeGreaterThan(0);
    // A few seconds beyond the drain to say bye and close (switch.closeGrace is 1 s by default).
    expect(sw.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(preStop + drain + 3);
  });
});
