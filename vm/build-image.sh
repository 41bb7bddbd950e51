#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# build-image.sh — build the mitmlab VM image (Debian 12 bookworm, Debian's cloud kernel).
#
# Three stages, each reused when its inputs have not changed:
#   1. debs   VM_BUILD/cache/debs/        every .deb ever downloaded (debootstrap --cache-dir and
#                                         apt's archive), so a base rebuild downloads nothing new
#   2. base   VM_BUILD/base/ + base.stamp debootstrap --variant=minbase + the package list +
#                                         linux-image-cloud-amd64; keyed on a hash of the package
#                                         list, the mirrors and this script's base recipe
#   3. image  VM_BUILD/mitmlab.img        base (read-only lower layer of an overlay, so it is never
#                                         copied or changed) + the source tree built and installed
#                                         with `make install` inside the chroot + the guest init,
#                                         turned into an ext4 image by `mkfs.ext4 -d` (no loop
#                                         mount); keyed on base key + source content + guest files
# Kernel and initrd are copied out of the chroot to VM_BUILD/vmlinuz and VM_BUILD/initrd.img.
#
# Packages come only from the Debian mirror the host's apt uses (read from
# /etc/apt/sources.list*). The whole script runs in a private mount namespace (unshare -m), so
# the overlay and the /proc, /sys and /dev mounts of the chroot vanish with it even if the build
# is killed: nothing to clean up on the host.
# Needs root, debootstrap, e2fsprogs (mkfs.ext4 -d), git.
set -euo pipefail

VM_DIR=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$VM_DIR/.." && pwd)
VM_BUILD=${VM_BUILD:-$VM_DIR/build}
SUITE=bookworm
# Build-only / developer-only packages of the top-level DEB_PKGS not put in the image (fuzzing, lint).
VM_EXCLUDE=${VM_EXCLUDE:-"clang libclang-rt-14-dev cppcheck"}
# Extra packages the guest needs beyond DEB_PKGS: the kernel and module loading.
VM_EXTRA=${VM_EXTRA:-"linux-image-cloud-amd64 kmod"}
# Free space left in the image for run directories written inside the guest (MiB).
VM_FREE_MB=${VM_FREE_MB:-1024}
# Source selection: "tracked" = the files `git ls-files` lists, as they are in the working tree
# (so with uncommitted changes); "worktree" = those plus untracked files that are not ignored.
VM_SRC=${VM_SRC:-tracked}
# Extra arguments for the `make` run inside the chroot, shell-quoted (e.g. "OPT=-O1").
VM_MAKEFLAGS=${VM_MAKEFLAGS:-}
# The make goal run inside the chroot: install (binary, analyzers, SDK) or all (binary only).
VM_MAKE_GOAL=${VM_MAKE_GOAL:-install}

log() { printf 'vm/build-image: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot)"
if [ "${VM_BUILD_IN_NS:-}" != 1 ]; then
	exec unshare -m --propagation private env VM_BUILD_IN_NS=1 bash "$0" "$@"
fi
for t in debootstrap mkfs.ext4 git unshare sha256sum; do
	command -v "$t" >/dev/null || die "$t not found (apt-get install debootstrap e2fsprogs git util-linux)"
done

# The mirror the host's apt uses for SUITE (and SUITE-security), from deb822 or one-line sources.
host_mirror() { # $1 = suite
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		case "$f" in
		*.sources)
			awk -v s="$1" 'BEGIN { RS=""; FS="\n" }
			{ u=""; ok=0; deb=0
			  for (i = 1; i <= NF; i++) {
			    if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); split($i, a, /[ \t]+/); u = a[1] }
			    if ($i ~ /^Suites:/) { n = split($i, a, /[ \t]+/); for (j = 2; j <= n; j++) if (a[j] == s) ok = 1 }
			    if ($i ~ /^Types:/ && $i ~ /(^|[ \t])deb([ \t]|$)/) deb = 1 }
			  if (ok && deb && u != "") { print u; exit } }' "$f" ;;
		*)
			awk -v s="$1" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
			  if ($(i + 1) == s) { print $i; exit } }' "$f" ;;
		esac
	done | head -n1
}
MIRROR=${MIRROR:-$(host_mirror "$SUITE")}
SEC_MIRROR=${SEC_MIRROR:-$(host_mirror "$SUITE-security")}
[ -n "$MIRROR" ] || die "no '$SUITE' mirror in /etc/apt/sources.list*; set MIRROR=URL"

# The package list: the top-level Makefile's DEB_PKGS minus VM_EXCLUDE, plus VM_EXTRA.
deb_pkgs=$(make -s --no-print-directory -C "$TOP" --eval 'vm-print-deb-pkgs: ; @echo $(DEB_PKGS)' vm-print-deb-pkgs)
[ -n "$deb_pkgs" ] || die "could not read DEB_PKGS from $TOP/Makefile"
PKGS=$(for p in $deb_pkgs $VM_EXTRA; do case " $VM_EXCLUDE " in *" $p "*) ;; *) echo "$p" ;; esac; done | sort -u | tr '\n' ' ')

mkdir -p "$VM_BUILD/cache/debs"
BASE=$VM_BUILD/base
# Base recipe version: bump when the base stage below changes in a way the hash cannot see.
BASE_RECIPE=4
base_key=$(printf '%s\n' "recipe=$BASE_RECIPE" "suite=$SUITE" "mirror=$MIRROR" "sec=$SEC_MIRROR" "pkgs=$PKGS" | sha256sum | cut -c1-16)

# Run a command in a chroot of $1 inside a private mount namespace with proc, sys and dev.
in_chroot() {
	local root=$1; shift
	unshare -m --propagation private -- /bin/sh -ec '
		root=$1; shift
		mount -t proc proc "$root/proc"
		mount -t sysfs sys "$root/sys"
		mount --rbind /dev "$root/dev"
		exec chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"' sh "$root" "$@"
}

build_base() {
	local t0 tmp=$VM_BUILD/base.tmp
	t0=$(now)
	log "base: debootstrap --variant=minbase $SUITE from $MIRROR (packages: $PKGS)"
	rm -rf "$tmp"
	# debootstrap mounts /proc etc. in the target itself; the private namespace bounds their life.
	unshare -m --propagation private -- debootstrap --variant=minbase --arch=amd64 \
		--cache-dir="$VM_BUILD/cache/debs" --include=ca-certificates \
		"$SUITE" "$tmp" "$MIRROR" >"$VM_BUILD/debootstrap.log" 2>&1 \
		|| { tail -n 20 "$VM_BUILD/debootstrap.log" >&2; die "debootstrap failed (log: $VM_BUILD/debootstrap.log)"; }
	log "base: debootstrap done in $(since "$t0") s"
	{
		echo "Types: deb"; echo "URIs: $MIRROR"; echo "Suites: $SUITE $SUITE-updates"
		echo "Components: main"; echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
		if [ -n "$SEC_MIRROR" ]; then
			echo; echo "Types: deb"; echo "URIs: $SEC_MIRROR"; echo "Suites: $SUITE-security"
			echo "Components: main"; echo "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg"
		fi
	} >"$tmp/etc/apt/sources.list.d/debian.sources"
	rm -f "$tmp/etc/apt/sources.list"
	printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"; chmod 0755 "$tmp/usr/sbin/policy-rc.d"
	printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$tmp/etc/apt/apt.conf.d/90mitmlab-vm"
	# No manuals, documentation or translations in the image (copyright files stay).
	printf '%s\n' 'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/doc/*' \
		'path-include=/usr/share/doc/*/copyright' 'path-exclude=/usr/share/locale/*' \
		'path-include=/usr/share/locale/locale.alias' 'path-exclude=/usr/share/info/*' \
		>"$tmp/etc/dpkg/dpkg.cfg.d/90mitmlab-vm-nodoc"
	# The initrd only needs to find a virtio disk (MODULES=dep cannot work in a chroot):
	# list the modules, which keeps it small and fast to load under TCG.
	mkdir -p "$tmp/etc/initramfs-tools/conf.d"
	echo "MODULES=list" >"$tmp/etc/initramfs-tools/conf.d/mitmlab-vm"
	printf 'virtio_pci\nvirtio_blk\next4\n' >>"$tmp/etc/initramfs-tools/modules"
	# Reuse every .deb downloaded before; hand new ones back to the cache afterwards.
	find "$VM_BUILD/cache/debs" -maxdepth 1 -name '*.deb' -exec cp -t "$tmp/var/cache/apt/archives/" {} +
	in_chroot "$tmp" apt-get update -q >"$VM_BUILD/apt.log" 2>&1 || { tail -n 20 "$VM_BUILD/apt.log" >&2; die "apt-get update failed"; }
	# shellcheck disable=SC2086
	in_chroot "$tmp" apt-get install -y -q $PKGS >>"$VM_BUILD/apt.log" 2>&1 \
		|| { cp -n "$tmp"/var/cache/apt/archives/*.deb "$VM_BUILD/cache/debs/" 2>/dev/null
		     tail -n 30 "$VM_BUILD/apt.log" >&2; die "apt-get install failed (log: $VM_BUILD/apt.log)"; }
	cp -n "$tmp"/var/cache/apt/archives/*.deb "$VM_BUILD/cache/debs/" 2>/dev/null || true
	in_chroot "$tmp" dpkg-query -W -f='${Package} ${Version}\n' >"$VM_BUILD/packages.txt"
	in_chroot "$tmp" apt-get clean
	rm -rf "$tmp"/usr/share/man/* "$tmp"/usr/share/info/*
	find "$tmp/usr/share/doc" -type f ! -name copyright -delete
	rm -rf "$tmp"/var/lib/apt/lists/* "$tmp"/usr/sbin/policy-rc.d "$tmp"/var/log/*.log "$tmp"/var/cache/debconf/*-old
	rm -rf "$BASE"; mv "$tmp" "$BASE"
	echo "$base_key" >"$VM_BUILD/base.stamp"
	log "base: built in $(since "$t0") s ($(wc -l <"$VM_BUILD/packages.txt") packages, list in $VM_BUILD/packages.txt)"
}

# The source tree to build inside: the working tree of git-known files (see VM_SRC).
src_files() {
	local others=--others
	[ "$VM_SRC" = tracked ] && others=
	git -C "$TOP" ls-files -z --cached $others --exclude-standard -- . ':!vm/build' \
		| (cd "$TOP" && while IFS= read -r -d '' f; do [ -f "$f" ] && printf '%s\0' "$f"; done) | sort -z -u
}

t_all=$(now)
if [ -d "$BASE" ] && [ "$(cat "$VM_BUILD/base.stamp" 2>/dev/null)" = "$base_key" ]; then
	log "base: reusing $BASE (key $base_key)"
else
	build_base
fi

git_rev=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$TOP" status --porcelain --untracked-files=no 2>/dev/null)" ] || git_rev="$git_rev-dirty"
src_hash=$(src_files | (cd "$TOP" && xargs -0 sha256sum) | sha256sum | cut -c1-16)
guest_hash=$(cat "$VM_DIR/guest/"* "$VM_DIR/build-image.sh" | sha256sum | cut -c1-16)
img_key=$(printf '%s\n' "$base_key" "$src_hash" "$guest_hash" "$git_rev" "$VM_FREE_MB" "$VM_SRC" "$VM_MAKEFLAGS" "$VM_MAKE_GOAL" | sha256sum | cut -c1-16)
IMG=$VM_BUILD/mitmlab.img
if [ -f "$IMG" ] && [ -f "$VM_BUILD/vmlinuz" ] && [ "$(cat "$VM_BUILD/image.stamp" 2>/dev/null)" = "$img_key" ]; then
	log "image: up to date ($IMG, sources unchanged)"
	exit 0
fi

t0=$(now)
rm -rf "$VM_BUILD/stage"
mkdir -p "$VM_BUILD/stage/upper" "$VM_BUILD/stage/work" "$VM_BUILD/stage/root"
STAGE=$VM_BUILD/stage/root
mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$VM_BUILD/stage/upper,workdir=$VM_BUILD/stage/work" "$STAGE" \
	|| die "cannot mount an overlay on $STAGE"
log "image: building mitmlab $git_rev inside (sources $src_hash, VM_SRC=$VM_SRC)"
mkdir -p "$STAGE/opt/mitmlab/src"
src_files | tar -C "$TOP" --null -T - -cf - | tar -C "$STAGE/opt/mitmlab/src" -xf -
t1=$(now)
eval "extra=($VM_MAKEFLAGS)"
# `make install` (the project's own recipe): the binary, the analyzers and the SDK under /usr/local.
in_chroot "$STAGE" make -C /opt/mitmlab/src -j"$(nproc)" BUILD=/opt/mitmlab/build GIT_REV="$git_rev" \
	PREFIX=/usr/local "${extra[@]}" "$VM_MAKE_GOAL" >"$VM_BUILD/make.log" 2>&1 \
	|| { tail -n 30 "$VM_BUILD/make.log" >&2; die "make inside the chroot failed (log: $VM_BUILD/make.log)"; }
# VM_MAKE_GOAL=all (or another goal that builds the binary only): install the binary by hand.
[ -x "$STAGE/usr/local/bin/mitmlab" ] || [ ! -x "$STAGE/opt/mitmlab/build/bin/mitmlab" ] \
	|| install -m 0755 "$STAGE/opt/mitmlab/build/bin/mitmlab" "$STAGE/usr/local/bin/mitmlab"
[ -x "$STAGE/usr/local/bin/mitmlab" ] || die "make install left no /usr/local/bin/mitmlab in the image"
rm -rf "$STAGE/opt/mitmlab/build" # objects: only what was installed stays
log "image: mitmlab built inside in $(since "$t1") s"

install -m 0755 "$VM_DIR/guest/init" "$STAGE/sbin/mitmlab-vm-init"
echo mitmlab-vm >"$STAGE/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tmitmlab-vm\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$STAGE/etc/hosts"
printf '/dev/vda / ext4 rw,relatime 0 1\n' >"$STAGE/etc/fstab"
mkdir -p "$STAGE/var/lib/mitmlab"
: >"$STAGE/etc/machine-id"
printf 'mitmlab-vm image\nbase %s\nsources %s (%s)\nbuilt %s\n' "$base_key" "$src_hash" "$git_rev" \
	"$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$STAGE/etc/mitmlab-vm-release"

kver=$(ls "$STAGE/lib/modules" | sort -V | tail -n1)
[ -n "$kver" ] && [ -f "$STAGE/boot/vmlinuz-$kver" ] && [ -f "$STAGE/boot/initrd.img-$kver" ] \
	|| die "no kernel/initrd in the chroot (is linux-image-cloud-amd64 in VM_EXTRA?)"
cp "$STAGE/boot/vmlinuz-$kver" "$VM_BUILD/vmlinuz.tmp"; cp "$STAGE/boot/initrd.img-$kver" "$VM_BUILD/initrd.img.tmp"

used_mb=$(du -sm "$STAGE" | cut -f1)
size_mb=$(( used_mb * 115 / 100 + VM_FREE_MB ))
t1=$(now)
# Fixed UUID, hash seed and creation time: the same tree gives a closer-to-identical image.
E2FSPROGS_FAKE_TIME=${SOURCE_DATE_EPOCH:-1700000000} mkfs.ext4 -q -F -L mitmlab-root \
	-U 6d69746d-6c61-6276-6d00-000000000001 -E root_owner=0:0,hash_seed=6d69746d-6c61-6276-6d00-000000000002 \
	-d "$STAGE" "$IMG.tmp" "${size_mb}M" >/dev/null
mv "$IMG.tmp" "$IMG"; mv "$VM_BUILD/vmlinuz.tmp" "$VM_BUILD/vmlinuz"; mv "$VM_BUILD/initrd.img.tmp" "$VM_BUILD/initrd.img"
echo "$kver" >"$VM_BUILD/kernel-version"
echo "$img_key" >"$VM_BUILD/image.stamp"
umount "$STAGE"; rm -rf "$VM_BUILD/stage"
log "image: mkfs.ext4 -d in $(since "$t1") s"
log "image: $IMG ${size_mb} MiB (allocated $(du -sm "$IMG" | cut -f1) MiB), kernel $kver; total $(since "$t_all") s"
