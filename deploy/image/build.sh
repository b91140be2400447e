#!/usr/bin/env bash
# `make image`: trains the model if the data changed, makes the base if missing, then
# builds $IMAGE from the repository's files (tracked, or new and not ignored: never
# .env, var/ or a virtualenv) and the model. Podman here; CONTAINER_ENGINE=buildah or
# docker elsewhere (both take the same Dockerfile).
set -euo pipefail
cd "$(dirname "$0")/../.."
image=${IMAGE:-localhost/oyat-assistant:latest}
base_image=${BASE_IMAGE:-localhost/oyat-base:bookworm-python3.10}
engine=${CONTAINER_ENGINE:-podman}

model=$(bash scripts/train.sh)
fingerprint=$(basename "$model" .tar.gz)
fingerprint=${fingerprint#oyat-}
if [[ "$base_image" == localhost/* ]]; then
  BASE_IMAGE="$base_image" CONTAINER_ENGINE="$engine" bash deploy/image/make_base.sh
fi

context=$(mktemp -d /var/tmp/oyat-image-context.XXXXXX)
trap 'rm -rf "$context"' EXIT
git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} sh -c '[ -f "{}" ] && printf "%s\0" "{}"' \
  | tar --null -T - -cf - | tar -C "$context" -xf -
mkdir -p "$context/models"
cp "$model" "$context/models/oyat.tar.gz"

echo "==> building $image (model $fingerprint) on $base_image"
# chroot isolation: the build's RUN steps need no OCI runtime (crun and runc are refused
# their resource limits on some kernels, this machine's among them).
build=(build --isolation=chroot)
[ "$engine" = buildah ] && build=(bud --isolation=chroot)
[ "$engine" = docker ] && build=(build)
# This machine's certificate authorities, for pip and npm during the build only.
ca_bundle=${BUILD_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
secret=()
[ -s "$ca_bundle" ] && secret=(--secret "id=build_ca,src=$ca_bundle")
"$engine" "${build[@]}" "${secret[@]}" --network=host --build-arg "BASE_IMAGE=$base_image" \
  --build-arg "MODEL_FINGERPRINT=$fingerprint" -t "$image" -f "$context/Dockerfile" "$context"
echo "==> $image built"
