#!/bin/sh
# postinst of the Packet Workbench deb (electron-builder.yml deb.afterInstall; fpm makes it
# the package's postinst). electron-builder renders this file as a template first: the
# dollar-brace macros executable and sanitizedProductName become the executable's name and
# the product's folder name (already escaped for single quotes), and any other
# dollar-brace name would stop the build, so the shell variables below are written
# without braces.
#
# It does what electron-builder's default postinst does (this file replaces it), then:
#   - sets cap_net_raw+ep on the socket helper, the one program of the package that ever
#     holds a privilege (native/helper/README.md); never fails the installation for it:
#     without setcap, or on a filesystem without extended attributes, it prints the command
#     to run by hand;
#   - installs the polkit action for the helper's elevated launch (pkexec).
# Idempotent: every step may run again (dpkg-reconfigure, a repeated configure).
#
# DPKG_ROOT is dpkg's own variable for a package installed under another root directory
# (dpkg --root); it is empty in a normal installation. The packaging test runs this script
# with DPKG_ROOT set to a temporary directory.
set -e

root="$DPKG_ROOT"
app='/opt/${sanitizedProductName}'
executable='${executable}'
helper="$root$app/resources/helper/packet-workbench-helper"
policy_name=org.packetworkbench.helper.policy
policy_source="$root$app/resources/polkit/$policy_name"
policy_dir="$root/usr/share/polkit-1/actions"

say() {
  printf 'Packet Workbench: %s\n' "$*"
}

# The command on PATH, through update-alternatives (as electron-builder's default postinst).
link="$root/usr/bin/$executable"
if command -v update-alternatives >/dev/null 2>&1; then
  # A previous plain link (not through update-alternatives) would block it.
  if [ -L "$link" ] && [ "$(readlink "$link")" != "/etc/alternatives/$executable" ]; then
    rm -f "$link"
  fi
  update-alternatives --install "/usr/bin/$executable" "$executable" "$app/$executable" 100 >/dev/null ||
    ln -sf "$app/$executable" "$link"
else
  ln -sf "$app/$executable" "$link"
fi

# Chromium's sandbox: set-user-ID chrome-sandbox only where user namespaces do not work.
if [ -e "$root$app/chrome-sandbox" ]; then
  if [ -L /proc/self/ns/user ] && unshare --user true 2>/dev/null; then
    chmod 0755 "$root$app/chrome-sandbox" || true
  else
    chmod 4755 "$root$app/chrome-sandbox" || true
  fi
fi

if command -v update-mime-database >/dev/null 2>&1; then
  update-mime-database "$root/usr/share/mime" || true
fi
if command -v update-desktop-database >/dev/null 2>&1; then
  update-desktop-database "$root/usr/share/applications" || true
fi

# AppArmor profile (Ubuntu 24.04 and later restrict unprivileged user namespaces, which
# Chromium's sandbox needs), only where this AppArmor accepts the profile.
if apparmor_status --enabled >/dev/null 2>&1; then
  apparmor_source="$root$app/resources/apparmor-profile"
  apparmor_target="$root/etc/apparmor.d/$executable"
  if apparmor_parser --skip-kernel-load --debug "$apparmor_source" >/dev/null 2>&1; then
    cp -f "$apparmor_source" "$apparmor_target"
    # Loading into the running kernel makes no sense in a chroot or for another root.
    if [ -z "$root" ] && ! { [ -x /usr/bin/ischroot ] && /usr/bin/ischroot; }; then
      apparmor_parser --replace --write-cache --skip-read-cache "$apparmor_target" || true
    fi
  else
    say "skipping the AppArmor profile: this AppArmor does not accept it"
  fi
fi

# The socket helper's file capability. It must be root's and not writable by others first.
manual="sudo setcap cap_net_raw+ep '$helper'"
if [ ! -f "$helper" ]; then
  say "the socket helper $helper is missing: raw sockets need the elevated launch (pkexec or sudo)"
elif ! chown root:root "$helper" || ! chmod 0755 "$helper"; then
  say "could not make $helper owned by root with mode 0755, so it gets no capability"
elif ! command -v setcap >/dev/null 2>&1; then
  say "setcap was not found (package libcap2-bin), so the socket helper has no capability yet."
  say "For raw sockets without a password prompt, run once: $manual"
elif ! setcap cap_net_raw+ep "$helper"; then
  say "setcap failed on $helper (a filesystem without extended attributes?)."
  say "For raw sockets without a password prompt, run once: $manual"
fi

# The polkit action for pkexec (polkitd notices new files in this folder by itself).
if [ -f "$policy_source" ]; then
  if ! { mkdir -p "$policy_dir" && install -m 0644 "$policy_source" "$policy_dir/$policy_name"; }; then
    say "could not install the polkit action into $policy_dir: pkexec will show its generic prompt"
  fi
else
  say "the polkit action $policy_source is missing: pkexec will show its generic prompt"
fi

exit 0
