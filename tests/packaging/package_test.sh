#!/bin/bash
# Builds the Debian package with CPack and checks it as an administrator would
# meet it: what it installs, its conffiles and maintainer scripts, its Depends
# (and that apt can satisfy them), that the packaged programs run, that every
# setting of photodrop.conf is one the programs accept, and that systemd
# accepts the units, and that nginx accepts the example in front of
# photodrop-api (when nginx is installed). Then installs, removes and purges it with dpkg in a
# throwaway overlay of this machine (as root; the machine is not changed).
#
# Usage: package_test.sh BUILD_DIR
#   PHOTODROP_PROGRAMS  the programs this build has (CTest sets it); one that
#                       is not listed is reported as skipped. Default: all four.
#
# Needs (Debian 12): cmake (cpack), dpkg-dev (dpkg-shlibdeps), apt,
# util-linux (unshare), coreutils (chroot), passwd; and the package's own
# Depends (fuse3, openssh-server, ...) for the install check. systemd, for
# systemd-analyze, is optional: without it the units are skipped; so is nginx
# (with openssl), for the example's check.

set -u

if [ $# -ne 1 ] || [ ! -f "$1/CPackConfig.cmake" ]; then
    echo "usage: $0 BUILD_DIR (a configured photodrop build directory)" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
source_dir=$(sed -n 's/^photodrop_SOURCE_DIR:STATIC=//p' "$build/CMakeCache.txt")
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")
arch=$(dpkg --print-architecture)
all_programs="photodrop-fs photodrop-ingest photodrop-api photodropctl"
programs=${PHOTODROP_PROGRAMS-$all_programs}

passed=0 failed=0 skipped=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
skip() { echo "SKIP: $*"; skipped=$((skipped + 1)); }
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() {
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
    echo "$passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
    exit
}
has_program() { [[ " $programs " == *" $1 "* ]]; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/photodrop-package-test.XXXXXX")
trap 'rm -rf --one-file-system "$tmp"' EXIT

# --- build ------------------------------------------------------------------
deb="$tmp/out/photodrop_${version}_${arch}.deb"
if (cd "$tmp" && cpack --config "$build/CPackConfig.cmake" -G DEB -B "$tmp/out") >"$tmp/cpack.log" 2>&1 &&
    [ -f "$deb" ]; then
    pass "cpack -G DEB made $(basename "$deb")"
else
    cat "$tmp/cpack.log"
    ls -l "$tmp/out" 2>/dev/null
    fail "cpack -G DEB made photodrop_${version}_${arch}.deb"
    finish
fi

# --- contents ---------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{ print $1, $6 }' | sed 's# \./# /#' >"$tmp/contents"
has_file() { grep -qxF -- "$1" "$tmp/contents"; }

for program in $all_programs; do
    if has_program "$program"; then
        check "contains /usr/bin/$program, executable" has_file "-rwxr-xr-x /usr/bin/$program"
    else
        skip "/usr/bin/$program: the build has no target $program yet"
    fi
done

# Every unit of packaging/systemd, and at least these three.
units=()
for unit in "$source_dir"/packaging/systemd/*.service; do
    [ -e "$unit" ] || continue
    name=$(basename "$unit")
    if has_file "-rw-r--r-- /lib/systemd/system/$name"; then
        units+=("$name")
        pass "contains /lib/systemd/system/$name"
    else
        fail "contains /lib/systemd/system/$name (build the project again if the unit is new)"
    fi
done
for name in photodrop-fs@.service photodrop-ingest.service photodrop-api.service; do
    [ -e "$source_dir/packaging/systemd/$name" ] ||
        fail "contains /lib/systemd/system/$name: packaging/systemd/$name is missing"
done

# The API posts webhooks to any address: its sandbox must leave it outbound TCP.
api_unit="$source_dir/packaging/systemd/photodrop-api.service"
if [ -e "$api_unit" ]; then
    families=" $(sed -n 's/^RestrictAddressFamilies=//p' "$api_unit") "
    allows_inet() { [ -z "${families// /}" ] || [[ $families == *" AF_INET "* && $families == *" AF_INET6 "* ]]; }
    check "photodrop-api.service allows AF_INET and AF_INET6 (webhooks)" allows_inet
    check "photodrop-api.service has no PrivateNetwork, IPAddressDeny or IPAddressAllow" \
        bash -c "! grep -Eq '^(PrivateNetwork=(yes|true|1)|IPAddressDeny=|IPAddressAllow=)' '$api_unit'"
    check "photodrop-api.service can write the catalog's directory and only read the data" \
        bash -c "grep -qx 'ReadWritePaths=/var/lib/photodrop' '$api_unit' && grep -Eqx 'ReadOnlyPaths=-?/var/lib/photodrop/data' '$api_unit'"
fi

check "contains /etc/photodrop/photodrop.conf" has_file "-rw-r--r-- /etc/photodrop/photodrop.conf"
check "contains /etc/photodrop/proftpd.conf" has_file "-rw-r--r-- /etc/photodrop/proftpd.conf"

if [ -e "$source_dir/packaging/sshd/photodrop.conf" ]; then
    check "contains /usr/share/photodrop/sshd/photodrop.conf" \
        has_file "-rw-r--r-- /usr/share/photodrop/sshd/photodrop.conf"
else
    skip "sshd snippet: packaging/sshd/photodrop.conf does not exist yet"
fi
check "contains /usr/lib/sysctl.d/60-photodrop.conf" has_file "-rw-r--r-- /usr/lib/sysctl.d/60-photodrop.conf"
nginx_example=/usr/share/doc/photodrop/examples/nginx/photodrop-api.conf
check "contains $nginx_example" has_file "-rw-r--r-- $nginx_example"
check "installs nothing into /etc/ssh" bash -c "! grep -q ' /etc/ssh' '$tmp/contents'"
check "installs nothing under /usr/local" bash -c "! grep -q ' /usr/local' '$tmp/contents'"

# --- control ----------------------------------------------------------------
field() { dpkg-deb -f "$deb" "$1"; }
check "Package is photodrop" test "$(field Package)" = photodrop
check "Version is $version" test "$(field Version)" = "$version"
check "Architecture is $arch" test "$(field Architecture)" = "$arch"
check "Maintainer is set" test -n "$(field Maintainer)"
check "Section is set" test -n "$(field Section)"
check "Description is set" test -n "$(field Description)"

check "conffiles lists /etc/photodrop/photodrop.conf" \
    bash -c "dpkg-deb -I '$deb' conffiles | grep -qxF /etc/photodrop/photodrop.conf"
check "conffiles lists /etc/photodrop/proftpd.conf" \
    bash -c "dpkg-deb -I '$deb' conffiles | grep -qxF /etc/photodrop/proftpd.conf"
dpkg-deb -e "$deb" "$tmp/control"
for script in postinst prerm postrm; do
    check "control has an executable $script" test -x "$tmp/control/$script"
    check "$script is valid sh" sh -n "$tmp/control/$script"
done
# prerm stops every service before its program goes away (a template's instances by pattern).
for name in "${units[@]}"; do
    stopped=$name
    [[ $name == *@.service ]] && stopped="'${name%@.service}@*.service'"
    check "prerm stops $name" grep -qF -- "$stopped" "$tmp/control/prerm"
done

depends=$(field Depends)
echo "Depends: $depends"
# depends_on PACKAGE: PACKAGE is one of the alternatives of Depends.
depends_on() { tr ',|' '\n' <<<"$depends" | sed 's/^ *//; s/ .*//' | grep -qxF -- "$1"; }
for package in fuse3 openssh-server ca-certificates libc6 libstdc++6 libsqlite3-0 libutf8proc2; do
    check "Depends names $package" depends_on "$package"
done
if has_program photodrop-fs; then check "Depends names libfuse3-3" depends_on libfuse3-3; fi
if has_program photodrop-ingest; then check "Depends names libvips42" depends_on libvips42; fi
if has_program photodrop-ingest; then check "Depends names libzxing2" depends_on libzxing2; fi
if has_program photodrop-api; then check "Depends names libssl3" depends_on libssl3; fi

# apt resolves the Depends against the installed and the known packages.
if command -v apt-get >/dev/null; then
    if apt-get install --simulate --no-install-recommends "$deb" >"$tmp/apt.log" 2>&1 &&
        grep -q '^Inst photodrop ' "$tmp/apt.log"; then
        pass "apt-get install --simulate resolves the dependencies"
    else
        cat "$tmp/apt.log"
        fail "apt-get install --simulate resolves the dependencies"
    fi
else
    skip "apt-get is not installed: dependency resolution not checked"
fi

# --- the packaged programs and settings -------------------------------------
root="$tmp/root"
check "dpkg-deb -x extracts the package" dpkg-deb -x "$deb" "$root"
conf="$root/etc/photodrop/photodrop.conf"

# Every setting line is `#key = default`; uncommented, they must all be accepted.
sed -n 's/^#\([a-z_][a-z_]*\) = \?\(.*\)$/\1 = \2/p' "$conf" >"$tmp/all-settings.conf"
sed 's/ =.*//' "$tmp/all-settings.conf" | sort >"$tmp/conf-keys"
grep -o '// key: [a-z_]*' "$source_dir/catalog/config.hpp" | sed 's#// key: ##' | sort >"$tmp/header-keys"
sed -n '/keys\[\] = {/,/};/p' "$source_dir/catalog/config.cpp" | grep -o '"[a-z_]*"' | tr -d '"' | sort >"$tmp/parser-keys"
check "photodrop.conf shows every setting of catalog/config.hpp" diff -u "$tmp/header-keys" "$tmp/conf-keys"
check "photodrop.conf shows every key of the parser in catalog/config.cpp" diff -u "$tmp/parser-keys" "$tmp/conf-keys"
check "photodrop.conf sets nothing when installed" \
    bash -c "! grep -v '^[[:space:]]*\(#\|\$\)' '$conf'"
check "each setting of photodrop.conf has an explanation above it" \
    awk '/^#[a-z_]+ =/ { if (prev !~ /^# [^ ]/) { print "no explanation: " $0; bad = 1 } } { prev = $0 } END { exit bad }' "$conf"
echo "no_such_setting = 1" >"$tmp/bad.conf"

for program in $all_programs; do
    if ! has_program "$program"; then
        skip "$program --help: the build has no target $program yet"
        continue
    fi
    binary="$root/usr/bin/$program"
    run() { PHOTODROP_CONFIG=$1 "$binary" --help >"$tmp/help.log" 2>&1; }
    if run "$conf" && grep -q . "$tmp/help.log"; then
        pass "packaged $program --help runs (with the packaged photodrop.conf)"
    else
        cat "$tmp/help.log"
        fail "packaged $program --help runs (with the packaged photodrop.conf)"
    fi
    if run "$tmp/all-settings.conf"; then
        pass "$program accepts every setting of photodrop.conf, uncommented"
    else
        cat "$tmp/help.log"
        fail "$program accepts every setting of photodrop.conf, uncommented"
    fi
    # The control case: the settings above were really read.
    if ! run "$tmp/bad.conf"; then
        pass "$program refuses an unknown setting"
    else
        fail "$program refuses an unknown setting"
    fi
done

# --- a real install, into a throwaway copy of this machine ---------------
# dpkg -i, remove and purge in a private mount namespace, on an overlay of /
# whose changes live in a tmpfs that vanishes with the namespace: the real
# system is not touched. Needs root and overlayfs; skipped without them.
cat >"$tmp/install.sh" <<'INSTALL'
set -u
tmp=$1 deb=$2 programs=$3
ok() { echo "PASS: $*"; }
no() { echo "FAIL: $*"; }
m="$tmp/overlay/merged"
mkdir -p "$tmp/overlay" &&
    mount -t tmpfs tmpfs "$tmp/overlay" &&
    mkdir -p "$tmp/overlay/upper" "$tmp/overlay/work" "$m" &&
    mount -t overlay overlay -o "lowerdir=/,upperdir=$tmp/overlay/upper,workdir=$tmp/overlay/work" "$m" &&
    mount --bind /proc "$m/proc" && mount --bind /dev "$m/dev" || exit 77
in_root() { chroot "$m" "$@"; }
cp "$deb" "$m/tmp/photodrop.deb"
# As on a fresh machine: no group photodrop yet.
fresh_group=yes
if in_root getent group photodrop >/dev/null && ! in_root groupdel photodrop 2>/dev/null; then
    fresh_group=no
    echo "note: this machine's group photodrop could not be removed first: postinst's groupadd is not exercised"
fi
# /proc is this machine's: postinst raises its real fs.pipe-max-size, put back when this script ends.
pipe_max=$(cat /proc/sys/fs/pipe-max-size)
trap 'echo "$pipe_max" >/proc/sys/fs/pipe-max-size' EXIT
echo 1048576 >/proc/sys/fs/pipe-max-size
if in_root dpkg -i /tmp/photodrop.deb >"$tmp/dpkg.log" 2>&1; then
    ok "dpkg -i installs the package, dependencies satisfied"
else
    cat "$tmp/dpkg.log"
    no "dpkg -i installs the package, dependencies satisfied"
    exit 0
fi
[ "$(cat /proc/sys/fs/pipe-max-size)" -ge 2097152 ] && ok "postinst raised fs.pipe-max-size to 2 MiB" ||
    no "postinst raised fs.pipe-max-size to 2 MiB (got $(cat /proc/sys/fs/pipe-max-size))"
what="postinst created the group photodrop"
[ $fresh_group = yes ] || what="the group photodrop exists"
in_root getent group photodrop >/dev/null && ok "$what" || no "$what"
mode() { in_root stat -c '%U:%G %a' "$1" 2>&1; }
for group in photodrop-ftp photodrop-ftp-plain photodrop-no-sftp photodrop-camera; do
    in_root getent group "$group" >/dev/null && ok "the group $group exists" || no "the group $group exists"
done
# The FTP server's certificate: made by postinst, unless this machine had one (then kept as it was).
if [ -e /etc/photodrop/ftp/tls.crt ]; then
    cmp -s /etc/photodrop/ftp/tls.crt "$m/etc/photodrop/ftp/tls.crt" && ok "postinst kept the FTP certificate there was" ||
        no "postinst kept the FTP certificate there was"
else
    in_root openssl x509 -noout -in /etc/photodrop/ftp/tls.crt 2>/dev/null &&
        [ "$(mode /etc/photodrop/ftp/tls.key)" = "root:root 600" ] &&
        ok "postinst made a certificate for the FTP server, its key root:root 0600" ||
        no "postinst made a certificate for the FTP server, its key root:root 0600 (key: $(mode /etc/photodrop/ftp/tls.key))"
fi
[ "$(mode /var/lib/photodrop)" = "root:root 750" ] && ok "postinst created /var/lib/photodrop root:root 0750" ||
    no "postinst created /var/lib/photodrop root:root 0750 (got $(mode /var/lib/photodrop))"
[ "$(mode /srv/photodrop)" = "root:root 755" ] && ok "postinst created /srv/photodrop root:root 0755" ||
    no "postinst created /srv/photodrop root:root 0755 (got $(mode /srv/photodrop))"
for program in $programs; do
    if in_root env -u PHOTODROP_CONFIG "/usr/bin/$program" --help >"$tmp/run.log" 2>&1; then
        ok "installed $program --help runs with the installed /etc/photodrop/photodrop.conf"
    else
        cat "$tmp/run.log"
        no "installed $program --help runs with the installed /etc/photodrop/photodrop.conf"
    fi
done
in_root dpkg -r photodrop >"$tmp/dpkg.log" 2>&1 && [ ! -e "$m/usr/bin/photodrop-fs" ] &&
    [ -e "$m/etc/photodrop/photodrop.conf" ] &&
    ok "dpkg -r removes the programs and keeps the conffile" || { cat "$tmp/dpkg.log"; no "dpkg -r removes the programs and keeps the conffile"; }
in_root dpkg --purge photodrop >"$tmp/dpkg.log" 2>&1 && [ ! -e "$m/etc/photodrop/photodrop.conf" ] &&
    [ -d "$m/var/lib/photodrop" ] &&
    ok "dpkg --purge removes the conffile and keeps /var/lib/photodrop" || { cat "$tmp/dpkg.log"; no "dpkg --purge removes the conffile and keeps /var/lib/photodrop"; }
exit 0
INSTALL
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null || ! command -v chroot >/dev/null; then
    skip "install test: needs root, unshare and chroot"
else
    unshare --mount --propagation private bash "$tmp/install.sh" "$tmp" "$deb" "$programs" >"$tmp/install.log" 2>&1
    status=$?
    cat "$tmp/install.log"
    if [ $status -eq 77 ]; then
        skip "install test: no overlay of / could be mounted here"
    elif [ $status -ne 0 ]; then
        fail "install test ran to its end (exit $status)"
    else
        passed=$((passed + $(grep -c '^PASS: ' "$tmp/install.log")))
        failed=$((failed + $(grep -c '^FAIL: ' "$tmp/install.log")))
    fi
fi

# --- systemd ----------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
    # The units name /usr/bin/photodrop-*, which is not installed here: point
    # copies of them at the extracted programs, keep everything else.
    mkdir -p "$tmp/units"
    for name in "${units[@]}"; do
        sed "s#/usr/bin/photodrop-#$root/usr/bin/photodrop-#g; s#/usr/bin/photodropctl#$root/usr/bin/photodropctl#g" \
            "$root/lib/systemd/system/$name" >"$tmp/units/$name"
        target=$name
        [[ $name == *@.service ]] && target=${name%@.service}@demo.service
        if systemd-analyze verify --man=no "$tmp/units/$target" >"$tmp/verify.log" 2>&1 && ! grep -q . "$tmp/verify.log"; then
            pass "systemd-analyze verify $target"
        else
            cat "$tmp/verify.log"
            fail "systemd-analyze verify $target"
        fi
    done
else
    skip "systemd-analyze is not installed (package systemd): units not verified"
fi

# --- nginx ------------------------------------------------------------------
# The example as an administrator would use it: a certificate of its own, in
# an nginx.conf of Debian's shape; `nginx -t` parses it (it binds nothing).
if command -v nginx >/dev/null && command -v openssl >/dev/null && [ -f "$root$nginx_example" ]; then
    n="$tmp/nginx"
    mkdir -p "$n"
    if openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=photos.example.com \
        -keyout "$n/key.pem" -out "$n/cert.pem" >"$n/openssl.log" 2>&1; then
        sed "s#/etc/letsencrypt/live/photos.example.com/fullchain.pem#$n/cert.pem#;
             s#/etc/letsencrypt/live/photos.example.com/privkey.pem#$n/key.pem#" \
            "$root$nginx_example" >"$n/photodrop-api.conf"
        cat >"$n/nginx.conf" <<NGINX
pid $n/nginx.pid;
error_log $n/error.log;
events {}
http {
    access_log off;
    gzip on;
    client_body_temp_path $n/body;
    proxy_temp_path $n/proxy;
    fastcgi_temp_path $n/fastcgi;
    uwsgi_temp_path $n/uwsgi;
    scgi_temp_path $n/scgi;
    include $n/photodrop-api.conf;
}
NGINX
        if nginx -t -q -p "$n" -c "$n/nginx.conf" >"$n/test.log" 2>&1; then
            pass "nginx -t accepts $nginx_example"
        else
            cat "$n/test.log"
            fail "nginx -t accepts $nginx_example"
        fi
    else
        cat "$n/openssl.log"
        fail "openssl made a test certificate for the nginx example"
    fi
else
    skip "nginx (or openssl) is not installed: the nginx example is not checked"
fi

finish
