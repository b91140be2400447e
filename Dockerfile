# The Oyat assistant's image: one image, each process started by its own command
# (deploy/kubernetes/*.yaml, docs/production.md "The image"). Built by `make image`
# (deploy/image/build.sh) from a context holding the repository's files and the
# trained model, on a base made from Debian's own packages (deploy/image/make_base.sh);
# elsewhere: --build-arg BASE_IMAGE=docker.io/library/python:3.10-slim-bookworm.
ARG BASE_IMAGE=localhost/oyat-base:bookworm-python3.10

FROM ${BASE_IMAGE} AS build
# Debian's Node.js and npm, for the widget's browser library only (not in the final image).
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Dependencies first: this layer is rebuilt only when the locked versions change.
# The building machine's certificate authorities (secret `build_ca`, optional) reach
# pip and npm only, for a network whose proxy re-signs TLS; the image keeps Debian's.
COPY requirements.txt constraints.txt ./
RUN --mount=type=secret,id=build_ca \
    export PIP_CERT=$([ -s /run/secrets/build_ca ] && echo /run/secrets/build_ca || echo /etc/ssl/certs/ca-certificates.crt) \
 && python3.10 -m venv /app/.venv \
 && /app/.venv/bin/pip install --quiet --no-cache-dir --disable-pip-version-check --upgrade pip wheel \
 && /app/.venv/bin/pip install --quiet --no-cache-dir --disable-pip-version-check -r requirements.txt -c constraints.txt \
 && /app/.venv/bin/pip check
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=build_ca \
    { [ -s /run/secrets/build_ca ] && export NODE_EXTRA_CA_CERTS=/run/secrets/build_ca; true; } \
 && npm ci --omit=dev --no-audit --no-fund --loglevel=error
COPY . .
RUN /app/.venv/bin/python -m compileall -q actions bot connectors core operations reference_services web >/dev/null

FROM ${BASE_IMAGE}
ARG MODEL_FINGERPRINT=unknown
LABEL org.opencontainers.image.title="Oyat assistant" \
      oyat.model.fingerprint="${MODEL_FINGERPRINT}"
# The user of the manifests (runAsUser 10001), with a writable home (Rasa's caches).
RUN groupadd --gid 10001 oyat \
 && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/oyat --shell /usr/sbin/nologin oyat
COPY --from=build /app /app
WORKDIR /app
# The model is baked in (models/oyat.tar.gz): an image is one release, the code, the
# training data and the model trained from them, so every replica answers alike.
# To try another model without a new image, mount it and set OYAT_MODEL.
ENV PATH=/app/.venv/bin:$PATH \
    HOME=/home/oyat \
    OYAT_MODEL=/app/models/oyat.tar.gz \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["python", "-m", "reference_services.cli", "--help"]
