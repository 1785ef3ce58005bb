// A real Kubernetes on this machine (scripts/tools/cluster.sh: Kubernetes built from source, etcd,
// containerd, CNI, kube-proxy, CoreDNS), and the chart installed into it as users install it:
// the images built from the repo's Dockerfiles and pushed to the cluster's registry, from which
// the node pulls them, `helm install` of
// deploy/helm/meridian with the values meant for a small cluster, every pod Ready through its real
// probes, `helm test`, /call-service-b through the Service, a killed pod replaced, `helm upgrade`
// rolled out under a request loop without an error, `helm uninstall` and `cluster.sh down`
// leaving nothing. Bad values are refused by the chart's schema and by the API server, each with
// its own message. The times are printed. `npm test -- cluster` runs this file alone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  dockerEngine,
  npmBuildSecrets,
  REPO_ROOT,
  request,
  runCommand,
  SKIP_CONTAINERS,
  SKIP_REASON,
  toolPath,
  type DockerEngine,
} from '@meridian/test-kit';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET on a connection of its own (no keep-alive pool): the status, or 0 when it fails. */
function freshGet(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
  });
}
const CLUSTER = path.join(REPO_ROOT, 'scripts/tools/cluster.sh');
const CHART = path.join(REPO_ROOT, 'deploy/helm/meridian');
const TAG = `cluster-${process.pid}`;
const NS = `meridian-test-${process.pid}`;
const IMAGES = [
  // One per repository the chart runs (the edge image is not deployed in the cluster).
  { image: 'meridian/service-a', args: ['--build-arg', 'SERVICE=service-a', '--build-arg', 'PORT=8080', '-f', 'services/Dockerfile'] },
  { image: 'meridian/service-b', args: ['--build-arg', 'SERVICE=service-b', '--build-arg', 'PORT=8081', '-f', 'services/Dockerfile'] },
  { image: 'meridian/inference', args: ['-f', 'services/inference/Dockerfile'] },
];
/** The values for a small local cluster, and the images just pushed to its registry. */
const values = (registry: string) => [
  '-f', path.join(CHART, 'values-minimal.yaml'),
  ...[['serviceA', 'meridian/service-a'], ['serviceB', 'meridian/service-b'], ['inference', 'meridian/inference']].flatMap(([key, image]) => [
    '--set', `${key}.image.repository=${registry}/${image}`, '--set', `${key}.image.tag=${TAG}`,
  ]),
  // Two service-a replicas and their PDB, so that an upgrade keeps one serving.
  '--set', 'serviceA.replicas=2', '--set', 'podDisruptionBudget.enabled=true',
];

describe('the chart on a real Kubernetes', { skip: SKIP_CONTAINERS ? SKIP_REASON : false, timeout: 1_200_000 }, () => {
  let engine: DockerEngine;
  let kubeconfig = '';
  let registry = '';
  let VALUES: string[] = [];
  const figures: string[] = [];
  const kubectl = (args: string[], timeoutMs = 60_000) => runCommand('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeoutMs });
  const kubectlOk = async (args: string[], timeoutMs?: number) => {
    const r = await kubectl(args, timeoutMs);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}:\n${r.output.slice(-3000)}`);
    return r.stdout.trim();
  };
  const helm = (args: string[], timeoutMs = 300_000) =>
    runCommand(toolPath('helm'), ['--kubeconfig', kubeconfig, ...args], { timeoutMs });
  const serviceUrl = async (name: string, port: number) => `http://${await kubectlOk(['-n', NS, 'get', 'service', name, '-o', 'jsonpath={.spec.clusterIP}'])}:${port}`;
  const note = (t: { diagnostic(s: string): void }, line: string) => {
    figures.push(line);
    t.diagnostic(line);
  };

  before(async () => {
    const started = Date.now();
    const up = await runCommand('bash', [CLUSTER, 'up'], { timeoutMs: 300_000 });
    assert.equal(up.code, 0, `cluster.sh up:\n${up.output.slice(-4000)}`);
    kubeconfig = /^KUBECONFIG=(.+)$/m.exec(up.stdout)![1];
    registry = /^REGISTRY=(.+)$/m.exec(up.stdout)![1];
    VALUES = values(registry);
    figures.push(`cluster up in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    engine = await dockerEngine();
  });

  after(async () => {
    if (kubeconfig) {
      await helm(['uninstall', 'meridian', '-n', NS, '--wait', '--timeout', '60s'], 90_000);
      await kubectl(['delete', 'namespace', NS, '--wait=false']);
    }
    const down = await runCommand('bash', [CLUSTER, 'down'], { timeoutMs: 180_000 });
    if (down.code !== 0) console.log(`# cluster.sh down:\n${down.output}`);
    if (engine) {
      for (const { image } of IMAGES) await engine.docker(['rmi', `${image}:${TAG}`, `${registry}/${image}:${TAG}`]);
      await engine.stop();
    }
    if (figures.length) console.log(`# cluster: ${figures.join('; ')}`);
  });

  test('the node is Ready, CoreDNS runs, and the API server refuses a bad object with its own message', async () => {
    assert.match(await kubectlOk(['get', 'nodes', '-o', 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}']), /^True$/);
    assert.equal(await kubectlOk(['-n', 'kube-system', 'get', 'deployment', 'coredns', '-o', 'jsonpath={.status.readyReplicas}']), '1');
    const bad = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bad', namespace: 'default' }, dataa: { x: '1' } });
    const r = await runCommand('bash', ['-c', `printf '%s' '${bad}' | kubectl --kubeconfig '${kubeconfig}' apply --dry-run=server --validate=strict -f -`]);
    assert.notEqual(r.code, 0, 'the API server accepted an unknown field');
    assert.match(r.output, /unknown field "dataa"/, r.output);
  });

  test('the chart\'s schema refuses a bad value before anything reaches the cluster', async () => {
    const r = await helm(['install', 'meridian-bad', CHART, '-n', 'default', '--dry-run=server', ...VALUES, '--set', 'serviceA.replicas=-1']);
    assert.notEqual(r.code, 0);
    assert.match(r.output, /values don't meet the specifications of the schema/, r.output);
    assert.match(r.output, /serviceA\.replicas|replicas/);
  });

  test('the images build and are pushed to the cluster\'s registry; helm install turns every pod Ready; helm test passes', async (t) => {
    const secrets = npmBuildSecrets();
    const builtAt = Date.now();
    try {
      for (const { image, args } of IMAGES) {
        const b = await engine.docker(['build', '--network=host', ...secrets.args, ...args, '-t', `${image}:${TAG}`, '.'], { cwd: REPO_ROOT, timeoutMs: 600_000 });
        assert.equal(b.code, 0, `docker build ${image}:\n${b.output.slice(-3000)}`);
      }
    } finally {
      secrets.cleanup();
    }
    // docker push to the registry on 127.0.0.1 (plain HTTP: Docker allows it for loopback).
    for (const { image } of IMAGES) {
      await engine.ok(['tag', `${image}:${TAG}`, `${registry}/${image}:${TAG}`]);
      await engine.ok(['push', `${registry}/${image}:${TAG}`], { timeoutMs: 300_000 });
    }
    const catalog = (await request(`http://${registry}/v2/_catalog`)).json as { repositories: string[] };
    assert.deepEqual(catalog.repositories.sort(), IMAGES.map(({ image }) => image).sort(), 'the registry holds the pushed repositories');
    note(t, `images built and pushed to the cluster's registry in ${((Date.now() - builtAt) / 1000).toFixed(0)} s`);

    await kubectlOk(['create', 'namespace', NS]);
    const installAt = Date.now();
    const install = await helm(['install', 'meridian', CHART, '-n', NS, ...VALUES, '--wait', '--timeout', '240s']);
    assert.equal(install.code, 0, `helm install:\n${install.output.slice(-3000)}\n${(await kubectl(['-n', NS, 'get', 'pods', '-o', 'wide'])).output}`);
    const pods = (await kubectlOk(['-n', NS, 'get', 'pods', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}'])).split('\n');
    assert.equal(pods.length, 6, `six pods (service-a twice): ${pods.join(', ')}`);
    for (const p of pods) assert.match(p, / True$/, `not Ready: ${p}`);
    note(t, `helm install to all ${pods.length} pods Ready in ${((Date.now() - installAt) / 1000).toFixed(1)} s`);

    const test = await helm(['test', 'meridian', '-n', NS, '--timeout', '120s']);
    assert.equal(test.code, 0, `helm test:\n${test.output.slice(-3000)}`);
    assert.match(test.output, /Phase:\s+Succeeded/);
  });

  test('/call-service-b answers through the Service (kube-proxy, CoreDNS inside)', async () => {
    const res = await request(`${await serviceUrl('service-a', 8080)}/call-service-b`);
    assert.equal(res.status, 200, res.text);
    assert.equal((res.json as { from: string }).from, 'service-b');
  });

  test('a pod that is killed is replaced', async (t) => {
    const selector = 'app.kubernetes.io/name=service-b';
    const [victim] = (await kubectlOk(['-n', NS, 'get', 'pods', '-l', selector, '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ');
    const killedAt = Date.now();
    await kubectlOk(['-n', NS, 'delete', 'pod', victim, '--grace-period=0', '--force', '--wait=false']);
    await kubectlOk(['-n', NS, 'wait', '--for=delete', `pod/${victim}`, '--timeout=60s'], 70_000);
    await kubectlOk(['-n', NS, 'rollout', 'status', 'deployment/service-b', '--timeout=120s'], 130_000);
    const now = (await kubectlOk(['-n', NS, 'get', 'pods', '-l', selector, '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ');
    assert.equal(now.length, 1);
    assert.notEqual(now[0], victim, 'a new pod took its place');
    const replacedS = (Date.now() - killedAt) / 1000;
    // And the callers recover: service-a's pooled connections to the killed pod are dead ends (a
    // forced kill sends no FIN), its calls on them time out and its breaker may open; /call-service-b
    // must answer again on every service-a pod, asked over new connections so that kube-proxy
    // spreads them over both.
    const url = `${await serviceUrl('service-a', 8080)}/call-service-b`;
    let streak = 0;
    const until = Date.now() + 90_000;
    while (streak < 20) {
      assert.ok(Date.now() < until, `service-a did not recover within 90 s of the kill (last streak ${streak})`);
      streak = (await freshGet(url)) === 200 ? streak + 1 : 0;
      if (streak === 0) await sleep(250);
    }
    note(t, `killed pod replaced and Ready in ${replacedS.toFixed(1)} s; /call-service-b answering again on every service-a pod ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
  });

  test('helm upgrade with a changed value rolls out while a request loop sees no error', async (t) => {
    const url = `${await serviceUrl('service-a', 8080)}/call-service-b`;
    let stop = false;
    const outcomes: Record<string, number> = {};
    const loop = (async () => {
      while (!stop) {
        // Each request on a connection of its own: what the Service does with new requests while
        // pods come and go. (A reused keep-alive connection can meet the old pod's close in flight,
        // a client-side race that retrying clients absorb; one run saw one such reset in 880.)
        const status = await freshGet(url);
        const key = status === 0 ? 'connection failed' : String(status);
        outcomes[key] = (outcomes[key] ?? 0) + 1;
        await sleep(20);
      }
    })();
    const before = await kubectlOk(['-n', NS, 'get', 'pods', '-l', 'app.kubernetes.io/name=service-a', '-o', 'jsonpath={.items[*].metadata.name}']);
    const upgrade = await helm(['upgrade', 'meridian', CHART, '-n', NS, ...VALUES, '--set', 'serviceA.logLevel=debug', '--wait', '--timeout', '240s']);
    // The loop runs on until the old pods are gone: their drain and shutdown are part of the rollout.
    const gone = await kubectl(['-n', NS, 'wait', '--for=delete', ...before.split(' ').map((p) => `pod/${p}`), '--timeout=90s'], 100_000);
    await sleep(1_000);
    stop = true;
    await loop;
    assert.equal(upgrade.code, 0, `helm upgrade:\n${upgrade.output.slice(-3000)}`);
    const total = Object.values(outcomes).reduce((a, b) => a + b, 0);
    assert.ok(total > 50, `the loop ran (${total} requests)`);
    if (Object.keys(outcomes).join() !== '200') {
      const logs = await kubectl(['-n', NS, 'logs', '-l', 'app.kubernetes.io/name=service-a', '--prefix', '--tail=40'], 30_000);
      const events = await kubectl(['-n', NS, 'get', 'events', '--sort-by=.lastTimestamp'], 30_000);
      assert.fail(`every request during the rollout answered 200: ${JSON.stringify(outcomes)}\n--- service-a logs ---\n${logs.output.slice(-6000)}\n--- events ---\n${events.output.slice(-3000)}`);
    }
    assert.equal(gone.code, 0, `the old service-a pods ended: ${gone.output}`);
    const afterPods = await kubectlOk(['-n', NS, 'get', 'pods', '-l', 'app.kubernetes.io/name=service-a', '-o', 'jsonpath={.items[*].metadata.name}']);
    assert.equal(afterPods.split(' ').length, 2);
    assert.ok(afterPods.split(' ').every((p) => !before.split(' ').includes(p)), `the service-a pods were replaced: ${before} -> ${afterPods}`);
    note(t, `helm upgrade: ${total} requests during the rollout, all 200`);
  });

  test('helm uninstall leaves nothing of the release; cluster.sh down leaves nothing of the cluster', async () => {
    const r = await helm(['uninstall', 'meridian', '-n', NS, '--wait', '--timeout', '120s']);
    assert.equal(r.code, 0, r.output);
    // Pods end after their drain and shutdown (terminationGracePeriodSeconds), after helm returns.
    await kubectlOk(['-n', NS, 'wait', '--for=delete', 'pods', '-l', 'app.kubernetes.io/instance=meridian', '--timeout=120s'], 130_000);
    const left = await kubectlOk(['-n', NS, 'get', 'all,configmaps,secrets,poddisruptionbudgets,serviceaccounts', '-l', 'app.kubernetes.io/instance=meridian', '-o', 'name']);
    assert.equal(left, '', `left after uninstall:\n${left}`);
    await kubectlOk(['delete', 'namespace', NS, '--timeout=120s'], 130_000);

    const dir = path.dirname(kubeconfig);
    const down = await runCommand('bash', [CLUSTER, 'down'], { timeoutMs: 180_000 });
    assert.equal(down.code, 0, down.output);
    kubeconfig = '';
    const processes = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .map((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ');
        } catch {
          return ''; // ended meanwhile
        }
      })
      .filter((cmd) => cmd.includes(dir));
    assert.deepEqual(processes, [], 'no process of the cluster runs');
    const chains = await runCommand('bash', ['-c', "iptables-save | grep -E '^:(KUBE|CNI)-' || true"]);
    assert.equal(chains.stdout.trim(), '', 'no iptables chain of the cluster is left');
    const links = await runCommand('bash', ['-c', 'ip -br link show meridian0 2>/dev/null; ip -br addr show dev lo | grep -o "172.31.255.1/32" || true']);
    assert.equal(links.stdout.trim(), '', 'neither the pod bridge nor the node address is left');
    const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').filter((l) => l.includes(dir));
    assert.deepEqual(mounts, [], 'no mount under the cluster folder');
  });
});
