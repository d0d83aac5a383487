#!/usr/bin/env bash
# Builds the `coffer` command line and the `coffer-server` service (which `coffer server` starts)
# in release mode with the Swift runtime linked statically (they run on machines without a Swift
# toolchain, and `coffer` starts in a few milliseconds) and installs both.
#
#   scripts/install.sh [DESTINATION_DIRECTORY]     (default: ~/.local/bin)
set -euo pipefail
cd "$(dirname "$0")/.."
destination="${1:-$HOME/.local/bin}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if [ ! -f /usr/include/zlib.h ]; then
    echo "== installing zlib1g-dev"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zlib1g-dev
fi

mkdir -p "$destination"
for product in coffer coffer-server; do
    echo "== swift build -c release --static-swift-stdlib --product $product"
    swift build -c release --static-swift-stdlib --product "$product"
    install -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/$product" "$destination/$product"
done
echo "== installed $destination/coffer ($("$destination/coffer" --version))"
case ":$PATH:" in
    *":$destination:"*) ;;
    *) echo "   add $destination to PATH, e.g.: export PATH=\"$destination:\$PATH\"" ;;
esac
