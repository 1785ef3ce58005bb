import { readFileSync } from 'node:fs';
import path from 'node:path';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';

/**
 * service.name when OTEL_SERVICE_NAME is not set: the service's package name without its scope
 * (plus the role for the inference roles), so a process started by hand never reports an unnamed service.
 */
export function defaultServiceName(mainScript = process.argv[1], env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!mainScript) return undefined;
  for (let dir = path.dirname(path.resolve(mainScript)), i = 0; i < 4; i++, dir = path.dirname(dir)) {
    try {
      const name = (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name;
      if (!name) continue;
      const bare = name.replace(/^@[^/]+\//, '');
      return env.ROLE ? `${bare}-${env.ROLE}` : bare;
    } catch {
      // no package.json here; look one folder up
    }
  }
  return undefined;
}

/**
 * Resource attributes of the telemetry contract. service.name comes from OTEL_SERVICE_NAME (the SDK
 * reads it too); the k8s.* attributes come from downward-API variables set by the Helm chart.
 */
export function contractResourceAttributes(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const attrs: Record<string, string> = {
    'service.namespace': 'meridian',
    'service.version': env.SERVICE_VERSION ?? env.npm_package_version ?? '0.1.0',
    'deployment.environment': env.DEPLOYMENT_ENVIRONMENT ?? 'local',
  };
  const serviceName = env.OTEL_SERVICE_NAME || defaultServiceName(undefined, env);
  if (serviceName) attrs['service.name'] = serviceName;
  const k8s: Record<string, string | undefined> = {
    'k8s.pod.name': env.K8S_POD_NAME,
    'k8s.namespace.name': env.K8S_NAMESPACE_NAME,
    'k8s.node.name': env.K8S_NODE_NAME,
    'k8s.pod.uid': env.K8S_POD_UID,
  };
  for (const [key, value] of Object.entries(k8s)) if (value) attrs[key] = value;
  return attrs;
}

export function contractResource(env: NodeJS.ProcessEnv = process.env): Resource {
  return resourceFromAttributes(contractResourceAttributes(env));
}
