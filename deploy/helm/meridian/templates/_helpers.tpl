{{/* Release-scoped name, for the ServiceAccount and the shared objects. */}}
{{- define "meridian.fullname" -}}
{{- if contains "meridian" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-meridian" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "meridian.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on every object. */}}
{{- define "meridian.labels" -}}
helm.sh/chart: {{ include "meridian.chart" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: meridian
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "c" $component). */}}
{{- define "meridian.selectorLabels" -}}
app.kubernetes.io/name: {{ .c.name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end -}}

{{- define "meridian.componentLabels" -}}
{{ include "meridian.labels" .root }}
app.kubernetes.io/name: {{ .c.name }}
app.kubernetes.io/component: {{ .c.component }}
{{- end -}}

{{- define "meridian.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "meridian.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
The five workloads, as a YAML list (read back with fromYamlArray). Their names are the
OpenTelemetry service.name, the Service's DNS name and the Prometheus job: the same as locally.
*/}}
{{- define "meridian.components" -}}
{{- $v := .Values -}}
- key: serviceA
  name: service-a
  component: frontend
  port: 8080
  public: true
  image: {{ toJson $v.serviceA.image }}
  values: {{ toJson (omit $v.serviceA "image") }}
- key: serviceB
  name: service-b
  component: backend
  port: 8081
  public: false
  image: {{ toJson $v.serviceB.image }}
  values: {{ toJson (omit $v.serviceB "image") }}
{{- range $role, $port := dict "ensemble" 8000 "efficientnetb0" 8001 "mobilenetv2" 8002 }}
- key: {{ $role }}
  name: inference-{{ $role }}
  component: {{ ternary "inference-ensemble" "inference-model" (eq $role "ensemble") }}
  port: {{ $port }}
  public: {{ eq $role "ensemble" }}
  role: {{ $role }}
  image: {{ toJson $v.inference.image }}
  values: {{ toJson (get $v.inference $role) }}
{{- end }}
{{- end -}}

{{/* "repository:tag", the tag defaulting to the chart's appVersion. */}}
{{- define "meridian.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{/* Container securityContext: fixed, not a value. */}}
{{- define "meridian.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "meridian.podSecurityContext" -}}
runAsNonRoot: true
seccompProfile:
  type: RuntimeDefault
{{- with .Values.podSecurityContext }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Whether the Ingress controller is the AWS Load Balancer Controller. */}}
{{- define "meridian.alb" -}}
{{- if eq .Values.ingress.provider "alb" }}true{{ end -}}
{{- end -}}
