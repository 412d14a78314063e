#!/usr/bin/env bash
# Container images for the real local nodes (scripts/realnode.sh), built here because nothing can be pulled
# from an image registry on these machines: each is one layer assembled from binaries this machine already
# has (the toolchain's etcd, Debian's busybox-static, nginx-light and awscli, a small Go stand-in), written as
# a docker-archive tarball (manifest.json + config + layer) that `ctr images import` accepts.
#
#   anka.local/pause:standin          pod sandbox: tests/integration/cmd/standin as /pause (sleeps until SIGTERM)
#   anka.local/etcd:<etcd version>    etcd, etcdctl, etcdutl in /usr/local/bin, no shell, root: like
#                                     quay.io/coreos/etcd (distroless static)
#   anka.local/busybox:<deb version>  Debian's static busybox as /bin/busybox with its applet links
#   anka.local/nginx:<deb version>    Debian's nginx with its shared libraries, user nginx = uid 101 and
#                                     STOPSIGNAL SIGQUIT as in the official image
#   anka.local/anka-standin:1         tests/integration/cmd/standin: answers like the Controller/Registry
#   anka.local/awscli:<deb version>   Debian's awscli (Python) + busybox: the backup's aws CLI at /usr/local/bin/aws
#
# Pulumi.local.yaml names exactly these. Cached under $CACHE/images-<key>/ (key: the inputs' versions and the
# hash of the stand-in's Go sources, this module's packages it imports included), so a second run rebuilds
# nothing.
#
# usage: scripts/realimages.sh build    build what is missing, print "<ref> <tarball>" per image
#        scripts/realimages.sh list     print the refs
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CACHE=${ANKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/anka-ha}
PREFIX=anka.local

log() { printf '[realimages %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

deb_version() { # package -> its installed version, made into a tag (no ':', '+', '~')
  local v
  v=$(dpkg-query -W -f '${Version}' "$1" 2>/dev/null) || die "Debian package $1 is not installed (scripts/deps.sh)"
  v=${v#*:}
  echo "${v//[+~]/-}"
}

ETCD_DIR=$("$HERE/toolchain.sh" dir etcd)
ETCD_VERSION=${ETCD_DIR##*/etcd-}

refs() {
  echo "pause $PREFIX/pause:standin"
  echo "etcd $PREFIX/etcd:$ETCD_VERSION"
  echo "busybox $PREFIX/busybox:$(deb_version busybox-static)"
  echo "nginx $PREFIX/nginx:$(deb_version nginx-light)"
  echo "standin $PREFIX/anka-standin:1"
  echo "awscli $PREFIX/awscli:$(deb_version awscli)"
}

# image REF ROOTFS CONFIG_JSON OUT: one-layer docker-archive. Files belong to root, times are zero, so the
# same inputs give the same image ID.
image() {
  local ref=$1 rootfs=$2 cfg=$3 out=$4 w diff cdig
  w=$(mktemp -d)
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$rootfs" -cf "$w/layer.tar" .
  diff=$(sha256sum "$w/layer.tar" | cut -d' ' -f1)
  mkdir "$w/$diff"; mv "$w/layer.tar" "$w/$diff/layer.tar"
  jq -c --arg d "sha256:$diff" '{architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
    config: ., rootfs: {type: "layers", diff_ids: [$d]}, history: [{created: "1970-01-01T00:00:00Z",
    created_by: "scripts/realimages.sh"}]}' <<<"$cfg" > "$w/config.json"
  cdig=$(sha256sum "$w/config.json" | cut -d' ' -f1)
  mv "$w/config.json" "$w/$cdig.json"
  jq -cn --arg c "$cdig.json" --arg r "$ref" --arg l "$diff/layer.tar" '[{Config: $c, RepoTags: [$r], Layers: [$l]}]' > "$w/manifest.json"
  tar --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$w" -cf "$out.tmp" manifest.json "$cdig.json" "$diff/layer.tar"
  mv "$out.tmp" "$out"
  rm -rf "$w"
}

copy_with_libs() { # rootfs binary...: the binaries and every shared library they load, at the same paths
  local r=$1 f l; shift
  for f in "$@"; do
    mkdir -p "$r$(dirname "$f")"; cp -L "$f" "$r$f"
    for l in $(ldd "$f" 2>/dev/null | awk '/=> \// {print $3} /^\t\/lib/ {print $1}'); do
      mkdir -p "$r$(dirname "$l")"; cp -L "$l" "$r$l"
    done
  done
}

applet_links() { # dir: busybox's applets as relative links to dir/busybox (its own --install -s would
  # link to the path it runs from here, which does not exist in the image); existing files are kept
  local a
  for a in $(/bin/busybox --list); do [ -e "$1/$a" ] || [ -L "$1/$a" ] || ln -s busybox "$1/$a"; done
}

base_rootfs() { # rootfs: what every image has (a writable-looking /tmp, passwd/group with root and nobody)
  mkdir -p "$1/tmp" "$1/etc"
  chmod 1777 "$1/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' > "$1/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' > "$1/etc/group"
}

build_one() { # kind ref out
  local kind=$1 ref=$2 out=$3 r path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  r=$(mktemp -d)
  base_rootfs "$r"
  case $kind in
    pause|standin)
      mkdir -p "$r/usr/local/bin"
      (cd "$ROOT" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -ldflags "-s -w" \
        -o "$r/usr/local/bin/standin" ./tests/integration/cmd/standin)
      if [ "$kind" = pause ]; then
        mv "$r/usr/local/bin/standin" "$r/pause"
        image "$ref" "$r" '{"Entrypoint": ["/pause"]}' "$out"
      else
        image "$ref" "$r" "$(jq -cn --arg p "PATH=$path" '{Env: [$p], Entrypoint: ["/usr/local/bin/standin"]}')" "$out"
      fi ;;
    etcd)
      mkdir -p "$r/usr/local/bin" "$r/var/etcd" "$r/var/lib/etcd"
      cp "$ETCD_DIR/bin/etcd" "$ETCD_DIR/bin/etcdctl" "$ETCD_DIR/bin/etcdutl" "$r/usr/local/bin/"
      image "$ref" "$r" "$(jq -cn --arg p "PATH=$path" '{Env: [$p], Cmd: ["/usr/local/bin/etcd"], WorkingDir: "/var/lib/etcd",
        ExposedPorts: {"2379/tcp": {}, "2380/tcp": {}}}')" "$out" ;;
    busybox)
      mkdir -p "$r/bin"
      cp /bin/busybox "$r/bin/busybox"
      applet_links "$r/bin"
      image "$ref" "$r" "$(jq -cn --arg p "PATH=$path" '{Env: [$p], Cmd: ["sh"]}')" "$out" ;;
    nginx)
      copy_with_libs "$r" /usr/sbin/nginx
      mkdir -p "$r/etc/nginx" "$r/var/log/nginx" "$r/var/cache/nginx"
      cp /etc/nginx/mime.types "$r/etc/nginx/"
      printf 'nginx:x:101:101:nginx:/nonexistent:/sbin/nologin\n' >> "$r/etc/passwd"
      printf 'nginx:x:101:\n' >> "$r/etc/group"
      image "$ref" "$r" "$(jq -cn --arg p "PATH=$path" '{Env: [$p], Cmd: ["nginx", "-g", "daemon off;"],
        StopSignal: "SIGQUIT", ExposedPorts: {"80/tcp": {}}}')" "$out" ;;
    awscli)
      # Debian's awscli is a Python program: python3 with its standard library and the packages it imports.
      # Debian 12 has merged /usr (/lib -> usr/lib, ...): every file goes to its real path, and the image
      # gets the same top-level links.
      local f real d
      for d in bin sbin lib lib64; do mkdir -p "$r/usr/$d"; rmdir "$r/$d" 2>/dev/null || true; ln -s "usr/$d" "$r/$d"; done
      # shellcheck disable=SC2046  # the package names are words
      dpkg -L $(awscli_closure) | sort -u | while read -r f; do
        [ -d "$f" ] && [ ! -L "$f" ] && continue
        [ -e "$f" ] || [ -L "$f" ] || continue
        real=$(readlink -f "$(dirname "$f")")/$(basename "$f")
        [ -e "$r$real" ] || [ -L "$r$real" ] && continue
        mkdir -p "$r$(dirname "$real")"; cp -a "$real" "$r$real"
      done
      mkdir -p "$r/usr/local/bin"
      ln -sf /usr/bin/aws "$r/usr/local/bin/aws"   # where the amazon/aws-cli image has it
      cp /bin/busybox "$r/bin/busybox"; applet_links "$r/bin"
      image "$ref" "$r" "$(jq -cn --arg p "PATH=$path" '{Env: [$p], Entrypoint: ["/usr/local/bin/aws"]}')" "$out" ;;
    *) die "unknown image kind $kind" ;;
  esac
  rm -rf "$r"
}

# awscli_closure: awscli and the Debian packages it needs at run time (Depends, recursively), without the
# ones a Python program does not load (shells, perl, the dynamic linker's own configuration is kept).
awscli_closure() {
  local seen=" " queue=(awscli) p d
  while [ ${#queue[@]} -gt 0 ]; do
    p=${queue[0]}; queue=("${queue[@]:1}")
    case "$seen" in *" $p "*) continue ;; esac
    dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || continue
    seen+="$p "
    for d in $(dpkg-query -W -f '${Depends}, ${Pre-Depends}\n' "$p" | tr ',|' '\n' | sed 's/([^)]*)//g; s/:any//' | awk '{print $1}'); do
      case $d in debconf|perl-base|dpkg|install-info|mime-support|media-types|tzdata|sensible-utils) ;; *) queue+=("$d") ;; esac
    done
  done
  echo "$seen"
}

# LAYOUT: bump it when a change here changes what goes into an image, so that cached images are rebuilt.
LAYOUT=3

# standin_hash: the hash of the Go files the standin is built from, this module's packages it imports
# included (internal/realproc), so that a change to any of them rebuilds its images. Contents, not paths:
# a clone in another folder finds the same images. No file list is an error, never the hash of nothing.
standin_hash() {
  local files
  files=$(cd "$ROOT" && go list -deps -f '{{if not .Standard}}{{range .GoFiles}}{{$.Dir}}/{{.}}{{"\n"}}{{end}}{{end}}' ./tests/integration/cmd/standin) ||
    die "go list ./tests/integration/cmd/standin failed"
  [ -n "$files" ] || die "go list found no source of ./tests/integration/cmd/standin"
  printf '%s\n' "$files" | xargs -d '\n' cat | sha256sum | cut -c1-12
}

key() { # the cache key of kind: what goes in, and how this script lays it out
  local layout=l$LAYOUT
  case $1 in
    pause|standin) local h; h=$(standin_hash) || exit 1; echo "$h-$layout" ;;
    etcd) echo "$ETCD_VERSION-$layout" ;;
    busybox) echo "$(deb_version busybox-static)-$layout" ;;
    nginx) echo "$(deb_version nginx-light)-$layout" ;;
    awscli) echo "$(deb_version awscli)-$layout" ;;
  esac
}

build() {
  local kind ref dir out want=("$@")
  command -v jq >/dev/null || die "jq not found"
  command -v go >/dev/null 2>&1 || export PATH=/usr/local/go/bin:$PATH
  while read -r kind ref; do
    if [ ${#want[@]} -gt 0 ] && [[ " ${want[*]} " != *" $kind "* ]]; then continue; fi
    dir=$CACHE/images-$kind-$(key "$kind")
    out=$dir/image.tar
    if [ ! -s "$out" ] || [ "$(cat "$dir/ref" 2>/dev/null)" != "$ref" ]; then
      local t0=$SECONDS
      mkdir -p "$dir"
      build_one "$kind" "$ref" "$out"
      echo "$ref" > "$dir/ref"
      log "$ref: built in $((SECONDS - t0))s -> $out ($(du -h "$out" | cut -f1))"
      local old
      for old in "$CACHE/images-$kind-"*; do [ "$old" = "$dir" ] || rm -rf "$old"; done   # earlier builds
    fi
    echo "$ref $out"
  done < <(refs)
}

case ${1:-} in
  build) shift; build "$@" ;;
  list) refs | awk '{print $2}' ;;
  *) awk 'NR > 1 && !/^#/ {exit} NR > 1 {print}' "$0" >&2; exit 2 ;;
esac
