#!/usr/bin/env bash
# Makes an OCI image archive (an image layout in a tar, as `ctr images import` and `docker load`
# read) from a root filesystem tar, with no engine: one uncompressed layer, linux/amd64.
#
#   scripts/images/oci-archive.sh ROOTFS.tar IMAGE-REF ENTRYPOINT-JSON OUT.tar
#   e.g. scripts/images/oci-archive.sh rootfs.tar meridian.local/pause:v1 '["/pause"]' pause.tar
set -euo pipefail
[[ $# -eq 4 ]] || { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
rootfs="$1" ref="$2" entrypoint="$3" out="$4"
[[ -f "$rootfs" ]] || { echo "✗ oci-archive.sh: no root filesystem tar at $rootfs" >&2; exit 1; }

dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/blobs/sha256"

# blob FILE: stores it under its digest; prints "sha256:<hex> <size>".
blob() {
  local hex size
  hex="$(sha256sum "$1" | cut -d' ' -f1)"; size="$(stat -c %s "$1")"
  cp "$1" "$dir/blobs/sha256/$hex"
  echo "sha256:$hex $size"
}

read -r layer layer_size < <(blob "$rootfs")
printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":%s},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
  "$entrypoint" "$layer" >"$dir/config.json"
read -r config config_size < <(blob "$dir/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" >"$dir/manifest.json"
read -r manifest manifest_size < <(blob "$dir/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
  "$manifest" "$manifest_size" "$ref" "${ref##*:}" >"$dir/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
rm -f "$dir/config.json" "$dir/manifest.json"
tar -C "$dir" -cf "$out" oci-layout index.json blobs
