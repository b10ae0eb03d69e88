#!/usr/bin/env bash
# Builds the Node 24 base image of the service images without any registry: the pinned Node
# binary of node_modules (npm package `node`), the shared libraries it and the runtime native
# addons link (found with ldd),
# a passwd/group with the distroless "nonroot" user, nothing else (no shell, no package manager).
# The layout matches gcr.io/distroless/nodejs24 (/nodejs/bin/node, uid 65532), so a Dockerfile
# can switch BASE_IMAGE to it where a registry is reachable.
#
# Usage: deploy/images/build-base.sh [tag]   (default filesync/node24-distroless:24)
set -euo pipefail

tag="${1:-filesync/node24-distroless:24}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
node="$(readlink -f "$root/node_modules/.bin/node")"
[ -x "$node" ] || { echo "build-base: no node binary at node_modules/.bin/node (run npm ci)" >&2; exit 1; }
version="$("$node" --version)"
case "$version" in v24.*) ;; *) echo "build-base: expected Node 24, found $version" >&2; exit 1 ;; esac

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/nodejs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/app" "$rootfs/home/nonroot"
chmod 1777 "$rootfs/tmp"

# The npm build carries a full symbol table; native addons link against the dynamic symbols,
# which --strip-all keeps, so this saves 18 MB and changes no behaviour.
cp "$node" "$rootfs/nodejs/bin/node"
strip --strip-all "$rootfs/nodejs/bin/node"

# Every library the binary links, and those of the native addons among the runtime dependencies
# (@node-rs/argon2 needs librt), under the path the loader looks for them (resolved, not symlinks).
shopt -s nullglob
addons=("$root"/node_modules/@node-rs/*/*.node)
for file in "$node" "${addons[@]}"; do ldd "$file"; done | awk '/=> \// { print $3 } /^[ \t]*\// { print $1 }' | sort -u | while read -r lib; do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done

cat > "$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
cat > "$rootfs/etc/group" <<'GROUP'
root:x:0:
nonroot:x:65532:
GROUP
echo 'hosts: files dns' > "$rootfs/etc/nsswitch.conf"
chown 65532:65532 "$rootfs/home/nonroot"

tar -C "$rootfs" --numeric-owner -c . | docker import \
  --change 'ENV PATH=/nodejs/bin' \
  --change 'ENV NODE_ENV=production' \
  --change 'USER 65532:65532' \
  --change 'WORKDIR /app' \
  --change 'ENTRYPOINT ["/nodejs/bin/node"]' \
  --message "Node $version from node_modules, distroless layout" \
  - "$tag" >/dev/null
echo "built $tag (Node $version): $(docker image inspect --format '{{.Size}}' "$tag" | awk '{ printf "%.1f MB", $1 / 1e6 }')"
