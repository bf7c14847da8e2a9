#!/usr/bin/env bash
# Builds the local images that the example and the tests use. No registry can be reached here, so images
# are made from Debian's busybox-static: a root filesystem with /bin/busybox and its applet links.
# Idempotent: an image that exists is left alone.
set -euo pipefail

image="monk-local/busybox:latest"
# The recipe's own hash is a label: an image built by an older recipe is rebuilt.
recipe="$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)"
if [ "$(docker image inspect -f '{{index .Config.Labels "monk.recipe"}}' "$image" 2>/dev/null)" = "$recipe" ]; then
  exit 0
fi

rootfs="$(mktemp -d)"
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,var/www,root,proc,sys,dev}
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list-full); do
  target="$rootfs/$applet"
  [ -e "$target" ] || ln -s /bin/busybox "$target"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$rootfs/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' > "$rootfs/etc/group"
chmod 1777 "$rootfs/tmp"
# Kits write `bash:` scripts; busybox has no bash applet, so bash is its POSIX shell here.
printf '#!/bin/sh\nexec /bin/sh "$@"\n' > "$rootfs/bin/bash"
chmod 755 "$rootfs/bin/bash"
tar -C "$rootfs" -c . | docker import \
  --change 'CMD ["/bin/sh"]' \
  --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "LABEL monk.recipe=$recipe" \
  - "$image" >/dev/null
echo "built $image" >&2
