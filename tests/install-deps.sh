#!/usr/bin/env bash
# Installs restored's build and test dependencies on Debian 12 when any is missing (as root).
# Everything comes from Debian's packages, plus buf and grpc-js from the npm registry for the
# reflection and second-client-stack tests.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential cmake pkg-config libgrpc-dev protobuf-compiler protobuf-c-compiler
      libprotobuf-c-dev libjson-c-dev libsystemd-dev check grpc-proto python3-grpcio
      python3-grpc-tools runc systemd openssl util-linux procps valgrind clang)
# Node.js and npm only when the machine has none (an image may ship its own Node, whose npm
# conflicts with Debian's package).
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
        if [ "$(id -u)" != 0 ]; then
                echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
                exit 1
        fi
        echo "==> installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages for the reflection (buf curl) and grpc-js client tests, kept inside the tree.
if [ -f tests/integration/package.json ] && [ ! -x tests/integration/node_modules/.bin/buf ]; then
        echo "==> installing npm test clients"
        (cd tests/integration && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
