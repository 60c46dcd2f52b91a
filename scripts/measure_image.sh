#!/usr/bin/env bash
# Build the Docker image, prove its codecs work as the bot runs them, and measure it.
#
#   scripts/measure_image.sh            # needs a running engine (`docker info` answers)
#
# Prints the image's size (docker image inspect .Size), the size of the base image it is built
# FROM, and the layers songbot adds (docker history), then runs the codec self-test inside the
# image as the bot runs there: non-root, read-only root filesystem, no network. Fails when the
# build or the self-test fails, or when songbot's own layers pass BUDGET_MB (179 MB: 300 MB on the
# 121 MB stand-in base of shared/tools/docker-engine.sh; on the official base, whose size differs,
# the same budget holds for what songbot adds). CI runs it when an engine is there (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
TAG="${TAG:-songbot:ci}"
BASE="${PYTHON_IMAGE:-python:3.11-slim-bookworm}"
BUDGET_MB="${BUDGET_MB:-179}"

# The legacy builder: BuildKit would fetch the docker/dockerfile:1 frontend named by the
# "# syntax=" line, and the Debian engine has no buildx. --network host: a daemon started without
# a bridge (docker-engine.sh) gives build containers no other network for pip.
DOCKER_BUILDKIT=0 docker build --network host --build-arg "PYTHON_IMAGE=$BASE" -t "$TAG" . >/tmp/songbot-image-build.log 2>&1 \
    || { tail -30 /tmp/songbot-image-build.log; echo "image: FAILED: docker build (log above)"; exit 1; }

size="$(docker image inspect "$TAG" --format '{{.Size}}')"
base="$(docker image inspect "$BASE" --format '{{.Size}}')"
added=$((size - base))
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
echo "image $TAG: $(mb "$size") (docker image inspect .Size); base $BASE: $(mb "$base"); songbot adds $(mb "$added")"
echo "layers songbot adds (docker history, newest first, empty ones left out):"
ours=$(( $(docker history -q "$TAG" | wc -l) - $(docker history -q "$BASE" | wc -l) ))
docker history "$TAG" --format '{{.Size}}\t{{.CreatedBy}}' | head -n "$ours" \
    | awk -F'\t' '$1 != "0B"' | cut -c1-110 | sed 's/^/  /'

docker run --rm --network none --read-only --tmpfs /tmp --entrypoint python "$TAG" -c \
    'import asyncio; from bot.delivery.codec import self_test; print(asyncio.run(self_test()))' \
    | sed 's/^/codec self-test in the image: /'
docker run --rm --network none --entrypoint sh "$TAG" -c \
    '! command -v pip >/dev/null && ! python -c "import pip" 2>/dev/null' \
    && echo "no pip in the runtime image" \
    || { echo "image: FAILED: pip is in the runtime image"; exit 1; }

if [ "$added" -gt $((BUDGET_MB * 1000000)) ]; then
    echo "image: FAILED: songbot adds $(mb "$added") to the base, over the budget of $BUDGET_MB MB"
    exit 1
fi
echo "image: ok ($(mb "$added") added, budget $BUDGET_MB MB)"
