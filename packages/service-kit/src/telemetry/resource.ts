import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';

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
  if (env.OTEL_SERVICE_NAME) attrs['service.name'] = env.OTEL_SERVICE_NAME;
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
