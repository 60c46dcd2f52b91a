"""Benchmark: the bot's memory per Telegram reference in flight (issue #28: target <= 10 MB).

Run: .venv/bin/python bench/bench_references.py [--refs 6 --mb 18]

The real `songbot run` (a child process, default configuration) against the fakes. `--refs`
users each send an `--mb` MB audio file (a real 16-bit stereo 44.1 kHz WAV, about 100 s for
18 MB) with `/song model:<m> …` as its caption, all at once; the bot downloads each through
getFile, converts it to MP3 with ffmpeg (a child process of its own, not counted), and hands it to
the model: music-01 uploads it (multipart), music-cover inlines it as base64 in the generate call.
The fake Bot API serves each file at `--rate` MB/s (a real link's pace; from memory, a localhost
download is over before the next one starts, and nothing is ever in flight together).
Measured: the bot's resident memory (VmRSS) just before the burst, its peak while the references
are in flight (VmHWM reset just before; also sampled every 10 ms), and the peak above the start
divided by the number of references; and the same in proportional set size (Pss) for the bot with
every process below it (its ffmpeg conversions), which is closer to what a container's memory limit
counts. Each model runs on a fresh
bot.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import struct
import time
from pathlib import Path

from _common import (
    RssSampler,
    bot_env,
    header,
    loadavg,
    memory_mb,
    reset_peak,
    songbot,
    table,
    wait_until,
    workdir,
)

from songbot_fakes.aimlapi import FakeAimlApi
from songbot_fakes.telegram import FakeTelegram

FIRST_USER = 620_000
LYRICS = "[Verse]\nNeon lights over the bay\nWe dance until the day"
RATE, CHANNELS = 44_100, 2


def tree_rss_mb(root: int) -> float:
    """Proportional set size (Pss) of `root` and every process below it (its ffmpeg children),
    in MB: pages shared between them (the ffmpeg binary's code) counted once, as a container's
    memory limit counts them; summing VmRSS would count them once per process."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(raw[raw.rindex(")") + 2 :].split()[1])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    total = 0.0
    for pid in tree:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        for line in rollup.splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1]) / 1024
    return total


class TreeSampler:
    """Peak of `tree_rss_mb` sampled every 20 ms."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peak = 0.0
        self.task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, await asyncio.to_thread(tree_rss_mb, self.root))
            await asyncio.sleep(0.02)

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> float:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
        return self.peak


def make_wav(megabytes: float) -> tuple[bytes, int]:
    """A real WAV of about `megabytes` MB (a 441 Hz tone) and its whole seconds."""
    frames = int(megabytes * 1_000_000 / (2 * CHANNELS))
    period = b"".join(
        struct.pack("<hh", v, v)
        for v in (int(6000 * math.sin(2 * math.pi * i / 100)) for i in range(100))
    )
    data = (period * (frames // 100 + 1))[: frames * 2 * CHANNELS]
    head = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    head += b"fmt " + struct.pack("<IHHIIHH", 16, 1, CHANNELS, RATE, RATE * 4, 4, 16)
    head += b"data" + struct.pack("<I", len(data))
    return head + data, int(frames / RATE)


async def one_case(
    model: str, refs: int, wav: bytes, seconds: int, tmp: Path, rate: float
) -> dict[str, float]:
    async with FakeTelegram(flood_limits=False) as tg, FakeAimlApi() as api:
        tg.download_bytes_per_second = rate
        env = bot_env(
            telegram_base=tg.base_url,
            token=tg.token,
            aimlapi_base=api.base_url,
            api_key=api.api_key,
            db=tmp / f"refs-{model}.db",
            SONGBOT_USER_DAILY_LIMIT="0",
        )
        child = songbot(env, tmp, tmp / f"refs-{model}.log")
        child.start()
        try:
            await wait_until(lambda: tg.polls_waiting > 0, timeout=60, what="start", child=child)
            await asyncio.sleep(2.0)
            before = memory_mb(child.pid)["VmRSS"]
            tree_before = tree_rss_mb(child.pid)
            exact = reset_peak(child.pid)
            sampler = RssSampler(child.pid)
            sampler.start()
            tree = TreeSampler(child.pid)
            tree.start()
            started = time.monotonic()
            for i in range(refs):
                user = FIRST_USER + i
                tg.send_media(
                    user,
                    user,
                    "audio",
                    wav,
                    caption=f"/song model:{model} warm acoustic folk\n{LYRICS}",
                    duration=seconds,
                    mime_type="audio/x-wav",
                    file_name=f"reference-{i}.wav",
                )

            def delivered() -> int:
                return len({c.params.get("chat_id") for c in tg.calls_to("sendAudio") if c.ok})

            await wait_until(
                lambda: delivered() >= refs, timeout=300, interval=0.1, what="songs", child=child
            )
            took = time.monotonic() - started
            sampled = await sampler.stop()
            tree_peak = await tree.stop()
            hwm = memory_mb(child.pid)["VmHWM"] if exact else sampled
            peak = max(hwm, sampled)
            after = memory_mb(child.pid)["VmRSS"]
        finally:
            await child.stop()
        downloads = len(tg.downloads)
    return {
        "before": before,
        "peak": peak,
        "after": after,
        "per_ref": (peak - before) / refs,
        "tree_peak": tree_peak,
        "tree_per_ref": (tree_peak - tree_before) / refs,
        "took": took,
        "downloads": float(downloads),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--refs", type=int, default=6)
    parser.add_argument("--mb", type=float, default=18.0)
    parser.add_argument("--rate", type=float, default=6.0, help="MB/s of each file download")
    parser.add_argument("--workdir")
    args = parser.parse_args()
    print(header("bench_references: resident memory per Telegram reference in flight"))
    wav, seconds = make_wav(args.mb)
    rows = []
    with workdir(args.workdir) as tmp:
        for model, how in (("01", "music-01: upload"), ("cover", "music-cover: inline base64")):
            r = await one_case(model, args.refs, wav, seconds, tmp, args.rate * 1e6)
            rows.append(
                (
                    how,
                    f"{r['before']:.1f} MB",
                    f"{r['peak']:.1f} MB",
                    f"{r['after']:.1f} MB",
                    f"**{r['per_ref']:.1f} MB**",
                    f"{r['tree_peak']:.1f} MB",
                    f"**{r['tree_per_ref']:.1f} MB**",
                    f"{r['took']:.1f} s",
                    f"{r['downloads']:.0f}",
                )
            )
    print(
        table(
            f"{args.refs} references of {len(wav) / 1e6:.1f} MB ({seconds} s WAV) at once, each "
            f"downloaded at {args.rate:g} MB/s (all in flight together)",
            [
                "model",
                "RSS before",
                "peak RSS",
                "RSS after",
                "peak above before, per reference",
                "peak Pss with its ffmpeg children",
                "same, per reference",
                "all delivered in",
                "downloads",
            ],
            rows,
        )
    )
    print(f"\nload average at the end: {loadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
