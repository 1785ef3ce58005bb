# Stand-ins for the telemetry pipeline's upstream images, built by scripts/images/standins.sh only
# on machines that cannot pull them, one target per image:
#   otelcol       otel/opentelemetry-collector-contrib  (FROM scratch, /otelcol-contrib, uid 10001)
#   jaeger        jaegertracing/jaeger                  (/cmd/jaeger/jaeger-linux, uid 10001)
#   prometheus    prom/prometheus                       (/bin/prometheus + promtool, nobody, /prometheus)
#   alertmanager  prom/alertmanager                     (/bin/alertmanager + amtool, nobody, /alertmanager)
#   victorialogs  victoriametrics/victoria-logs         (/victoria-logs-prod, root, /victoria-logs-data)
#   traefik       traefik                               (FROM scratch, /usr/local/bin/traefik; the local cluster's ingress)
#   prometheus-operator, prometheus-config-reloader     quay.io/prometheus-operator/* (/bin/<name>; the cluster tests)
# The binaries are the pinned ones scripts/tools/install.sh builds from source (static, CGO off);
# the context holds them, and busybox for the wget that the upstream images' health checks use.
# Each keeps the upstream entrypoint, user, paths and ports; docs/deploy-compose.md lists how they differ.
ARG BASE=meridian-standin/debian:bookworm-minbase

# The upstream Jaeger, Prometheus, Alertmanager and VictoriaLogs images are Alpine or busybox based: a shell and
# busybox wget. Here: the debootstrap'ed bookworm with busybox (Debian's static build) for wget.
FROM ${BASE} AS busybox-base
COPY busybox /bin/busybox
RUN ln -s /bin/busybox /usr/local/bin/wget && wget --help 2>&1 | head -n 1

FROM scratch AS otelcol
ARG STANDIN_OF
ARG STANDIN
LABEL org.meridian.standin-of="${STANDIN_OF}" org.meridian.standin="${STANDIN}"
COPY otelcol /otelcol-contrib
USER 10001
EXPOSE 4317 4318 55678 55679
ENTRYPOINT ["/otelcol-contrib"]
CMD ["--config", "/etc/otelcol-contrib/config.yaml"]

FROM busybox-base AS jaeger
ARG STANDIN_OF
ARG STANDIN
LABEL org.meridian.standin-of="${STANDIN_OF}" org.meridian.standin="${STANDIN}"
ENV JAEGER_LISTEN_HOST=0.0.0.0
COPY jaeger /cmd/jaeger/jaeger-linux
VOLUME ["/tmp"]
USER 10001
EXPOSE 4317 4318 5778 5779 9411 14250 14268 16686 13132 13133
ENTRYPOINT ["/cmd/jaeger/jaeger-linux"]

FROM busybox-base AS prometheus
ARG STANDIN_OF
ARG STANDIN
LABEL org.meridian.standin-of="${STANDIN_OF}" org.meridian.standin="${STANDIN}"
COPY prometheus promtool /bin/
RUN mkdir -p /etc/prometheus /prometheus && chown nobody:nogroup /etc/prometheus /prometheus
USER nobody
EXPOSE 9090
VOLUME ["/prometheus"]
WORKDIR /prometheus
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]

FROM busybox-base AS alertmanager
ARG STANDIN_OF
ARG STANDIN
LABEL org.meridian.standin-of="${STANDIN_OF}" org.meridian.standin="${STANDIN}"
COPY alertmanager amtool /bin/
RUN mkdir -p /etc/alertmanager /alertmanager && chown nobody:nogroup /etc/alertmanager /alertmanager
USER nobody
EXPOSE 9093
VOLUME ["/alertmanager"]
WORKDIR /alertmanager
ENTRYPOINT ["/bin/alertmanager"]
CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]

# Upstream: Alpine, /usr/local/bin/traefik behind an /entrypoint.sh that passes `--flags` through to
# it. Here the binary is the entrypoint, so `args: [--flag, ...]` in a pod spec work the same.
FROM busybox-base AS victorialogs
ARG STANDIN_OF
ARG STANDIN
LABEL org.meridian.standin-of="${STANDIN_OF}" org.meridian.standin="${STANDIN}"
COPY victoria-logs /victoria-logs-prod
EXPOSE 9428
VOLUME ["/victoria-logs-data"]
ENTRYPOINT ["/victoria-logs-prod"]

FROM scratch AS traefik
ARG STANDIN_OF
ARG STANDIN
LABEL org.meridian.standin-of="${STANDIN_OF}" org.meridian.standin="${STANDIN}"
COPY traefik /usr/local/bin/traefik
EXPOSE 80
ENTRYPOINT ["/usr/local/bin/traefik"]

# Upstream: quay.io/prometheus/busybox with /bin/operator, user 65534.
FROM busybox-base AS prometheus-operator
ARG STANDIN_OF
ARG STANDIN
LABEL org.meridian.standin-of="${STANDIN_OF}" org.meridian.standin="${STANDIN}"
COPY operator /bin/operator
USER 65534
EXPOSE 8080
ENTRYPOINT ["/bin/operator"]

# Upstream: quay.io/prometheus/busybox with /bin/prometheus-config-reloader, user nobody.
FROM busybox-base AS prometheus-config-reloader
ARG STANDIN_OF
ARG STANDIN
LABEL org.meridian.standin-of="${STANDIN_OF}" org.meridian.standin="${STANDIN}"
COPY prometheus-config-reloader /bin/prometheus-config-reloader
USER nobody
ENTRYPOINT ["/bin/prometheus-config-reloader"]
