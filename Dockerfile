# syntax=docker/dockerfile:1
# songbot: `docker build -t songbot .`, then see "Docker" in docs/operations.md.
# Runs as a non-root user with a read-only root filesystem; everything it writes (the SQLite
# database, temporary audio) lives on the /data volume.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: one self-contained virtualenv in /opt/songbot, versions pinned by the lock ---------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY requirements.lock pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
# The lock is a constraints file (scripts/lock.sh): only the runtime packages get installed, at
# exactly the locked versions. The build stage's pip installs into the venv, so the runtime image
# carries no pip. pip byte-compiles everything, so nothing needs writing at run time.
# Some wheels ship their extension modules with debug sections (PyAV's: 32 MB, 7 MB without):
# `strip --strip-debug` drops only those sections, and only from files that have them (the
# libraries auditwheel bundled are stripped already and are left alone). The last lines prove the
# stripped codec still loads and has every codec the bot uses.
RUN apt-get update \
 && apt-get install -y --no-install-recommends binutils \
 && python -m venv --without-pip /opt/songbot \
 && pip --python /opt/songbot/bin/python install --constraint requirements.lock . \
 && find /opt/songbot -type f -name '*.so*' -exec sh -c 'for so; do \
      if readelf -S "$so" 2>/dev/null | grep -q "[.]debug_info"; then strip --strip-debug "$so"; fi; \
    done' sh {} + \
 && /opt/songbot/bin/songbot --help > /dev/null \
 && /opt/songbot/bin/python -c 'from bot.delivery.codec import codec_status; print(codec_status())'

# ---- runtime ------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
# DejaVu lets the waveform cover draw accents, Cyrillic and Greek (about 3 MB installed; Pillow's
# built-in font covers little beyond ASCII). The codecs ship inside the PyAV wheel (in the venv).
# The base image's pip goes: nothing installs anything at run time, so the runtime has no pip on
# PATH and `import pip` fails (its bytes stay in the base layer; removing them saves no space).
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/* \
 && pipdir="$(python -c 'import os, pip; print(os.path.dirname(pip.__file__))')" \
 && rm -rf "$pipdir" "$(dirname "$pipdir")"/pip-*.dist-info \
      /usr/local/bin/pip /usr/local/bin/pip3 /usr/local/bin/pip3.* /usr/bin/pip /usr/bin/pip3 \
 && ! python -c 'import pip' 2>/dev/null \
 && ! command -v pip >/dev/null && ! command -v pip3 >/dev/null \
 && groupadd --system --gid 10001 songbot \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin songbot \
 && mkdir -p /data/tmp \
 && chown -R 10001:10001 /data
COPY --from=build /opt/songbot /opt/songbot
# HOME and TMPDIR point at the volume: with a read-only root nothing else is writable.
ENV PATH=/opt/songbot/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PTB_TIMEDELTA=1 \
    HOME=/data \
    TMPDIR=/data/tmp \
    SONGBOT_DB=/data/songbot.db \
    SONGBOT_TEMP_DIR=/data/tmp \
    SONGBOT_HTTP_PORT=8080 \
    SONGBOT_WEBHOOK_LISTEN=0.0.0.0
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# /healthz and /metrics (and the webhook in webhook mode) on one port.
EXPOSE 8080
STOPSIGNAL SIGTERM
# Healthy = database writable, job runner ticking, updates arriving (long poll or webhook).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as u; h = os.environ.get('SONGBOT_WEBHOOK_LISTEN') or '127.0.0.1'; h = '127.0.0.1' if h in ('0.0.0.0', '::', '') else h; u.urlopen('http://%s:%s/healthz' % (h, os.environ.get('SONGBOT_HTTP_PORT') or '8080'), timeout=4)"]
# `docker run songbot` runs the bot; `docker run songbot check` (or jobs, stats, backup) runs an
# operator command with the same configuration. `songbot demo` is not in the image: the fakes it
# plays against are test servers, kept out of the product (docs/operations.md, "Offline demo").
ENTRYPOINT ["songbot"]
CMD ["run"]
