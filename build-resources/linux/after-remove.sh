#!/bin/sh
# postrm of the Packet Workbench deb (electron-builder.yml deb.afterRemove; fpm makes it
# the package's postrm). Rendered as a template like after-install.sh (see there: no
# dollar-brace shell variables). Called as: postrm remove|purge|upgrade|failed-upgrade|
# abort-install|abort-upgrade|disappear [version].
#
# It does what electron-builder's default postrm does (this file replaces it), then, when
# the package really goes (not on an upgrade, whose new postinst sets everything again):
#   - removes the polkit action that after-install.sh copied (dpkg does not know that file);
#   - removes the helper's capability where the helper is still there (an aborted install;
#     normally dpkg has deleted it, and the capability, an extended attribute of the file,
#     with it).
# Idempotent, and it never fails the removal. DPKG_ROOT: see after-install.sh.
set -e

root="$DPKG_ROOT"
app='/opt/${sanitizedProductName}'
executable='${executable}'
helper="$root$app/resources/helper/packet-workbench-helper"
policy="$root/usr/share/polkit-1/actions/org.packetworkbench.helper.policy"

# The command on PATH (as electron-builder's default postrm, on every call).
if command -v update-alternatives >/dev/null 2>&1; then
  update-alternatives --remove "$executable" "$app/$executable" >/dev/null 2>&1 || true
else
  rm -f "$root/usr/bin/$executable"
fi

# The AppArmor profile: unloaded from the running kernel, then deleted.
apparmor_target="$root/etc/apparmor.d/$executable"
if [ -f "$apparmor_target" ]; then
  if [ -z "$root" ] && apparmor_status --enabled >/dev/null 2>&1 &&
    ! { [ -x /usr/bin/ischroot ] && /usr/bin/ischroot; } && command -v apparmor_parser >/dev/null 2>&1; then
    apparmor_parser --remove "$apparmor_target" || true
  fi
  rm -f "$apparmor_target"
fi

case "$1" in
  upgrade | failed-upgrade | abort-upgrade) ;;
  *)
    rm -f "$policy"
    if [ -f "$helper" ] && command -v setcap >/dev/null 2>&1; then
      # Fails harmlessly when the file has no capability.
      setcap -r "$helper" 2>/dev/null || true
    fi
    ;;
esac

exit 0
