#!/usr/bin/env bash
# Builds the local images that the example and the tests use. No registry can be reached here, so images
# are made from Debian's busybox-static: a root filesystem with /bin/busybox and its applet links.
# Idempotent: an image that exists is left alone.
set -euo pipefail

image="monk-local/busybox:latest"
if docker image inspect "$image" >/dev/null 2>&1; then exit 0; fi

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
tar -C "$rootfs" -c . | docker import \
  --change 'CMD ["/bin/sh"]' \
  --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
  - "$image" >/dev/null
echo "built $image" >&2
