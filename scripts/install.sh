#!/usr/bin/env bash
# Builds the `coffer` command line in release mode with the Swift runtime linked statically (it
# starts in a few milliseconds and runs on machines without a Swift toolchain) and installs it.
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

echo "== swift build -c release --static-swift-stdlib --product coffer"
swift build -c release --static-swift-stdlib --product coffer
mkdir -p "$destination"
install -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/coffer" "$destination/coffer"
echo "== installed $destination/coffer ($("$destination/coffer" --version))"
case ":$PATH:" in
    *":$destination:"*) ;;
    *) echo "   add $destination to PATH, e.g.: export PATH=\"$destination:\$PATH\"" ;;
esac
