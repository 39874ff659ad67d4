#!/usr/bin/env bash
# Installs the Debian packages the front line needs, only when one is missing.
# run: speech output.  test: also the SIP peers, audio tools and the browser for console tests.
set -euo pipefail
purpose=${1:-run}
packages=(espeak-ng)
if [ "$purpose" = test ]; then
  packages+=(sox sip-tester baresip-core chromium chromium-driver)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "Not a Debian-like system: please install ${missing[*]} yourself; tests that need them will skip." >&2
  [ "${CI:-}" = true ] && exit 1
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing Debian packages: ${missing[*]} ..."
if ! { $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"; }; then
  echo "Could not install ${missing[*]}; tests that need them will skip (and fail with CI=true)." >&2
  [ "${CI:-}" = true ] && exit 1
fi
exit 0
