# syntax=docker/dockerfile:1
# Build stage: resolve and build wheels from the locked set, so the runtime stage needs no compiler.
FROM python:3.11-slim AS build
WORKDIR /src
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY requirements.lock pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
RUN python -m venv /opt/songbot \
 && /opt/songbot/bin/pip install -r requirements.lock \
 && /opt/songbot/bin/pip install --no-deps . \
 && find /opt/songbot -name '__pycache__' -prune -exec rm -rf {} +

# Runtime stage: slim Python, non-root, database and temp audio on the /data volume.
FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin songbot \
 && mkdir -p /data && chown songbot:songbot /data
COPY --from=build /opt/songbot /opt/songbot
ENV PATH=/opt/songbot/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SONGBOT_DB=/data/songbot.db \
    SONGBOT_TEMP_DIR=/data/tmp \
    SONGBOT_HTTP_PORT=8080 \
    IMAGEIO_FFMPEG_EXE=/opt/songbot/bin/ffmpeg
# ffmpeg ships inside the imageio-ffmpeg wheel; expose it under a stable name.
RUN ln -s "$(/opt/songbot/bin/python -c 'import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())')" /opt/songbot/bin/ffmpeg
USER songbot
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
# Healthy = database writable, runner loop alive, updates arriving (see /healthz in the README).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os,sys,urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('SONGBOT_HTTP_PORT','8080'), timeout=4).status == 200 else 1)"]
CMD ["songbot", "run"]
