"""Benchmark 4, delivery: 20 songs of 10 MB completing at once.

Run: .venv/bin/python bench/bench_delivery.py [--songs 20] [--mb 10]

The fake AI/ML API finishes `--songs` generations at the same moment, each a real `--mb` MB MP3
(320 kbit/s, made once with ffmpeg), for `--songs` users in private chats; the bot (`python -m
bot run`, a child process) downloads each, probes it, draws its cover and uploads it with
sendAudio to the fake Bot API (flood limits off). Measured:
- the bot's peak resident memory over the delivery (VmHWM reset just before; also sampled) above
  its resident memory just before, in total and per concurrent delivery;
- wall time from the first audio download to the last sendAudio answered (and from the
  provider's completion, which adds the poll lag);
- the same bytes copied by a plain httpx client (a child process too): streamed download to
  disk, then a streamed multipart sendAudio upload, all songs concurrently.
Target: streamed, so memory grows by well under 10 MB per concurrent delivery; total time within
1.2x of the plain copy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import (
    PYTHON,
    ROOT,
    Child,
    RssSampler,
    bot_env,
    header,
    insert_jobs,
    loadavg,
    reset_peak,
    songbot,
    table,
    wait_until,
    workdir,
)

FIRST_USER = 610_000
LYRICS = "[Verse]\nNeon lights over the bay"


def make_song(path: Path, megabytes: float) -> bytes:
    """A real MP3 of about `megabytes` MB (320 kbit/s stereo sine), cached at `path`."""
    if not path.exists():
        import imageio_ffmpeg

        seconds = megabytes * 1_000_000 * 8 / 320_000
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-hide_banner",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                f"sine=frequency=330:sample_rate=44100:duration={seconds:.1f}",
                "-ac",
                "2",
                "-c:a",
                "libmp3lame",
                "-b:a",
                "320k",
                "-y",
                str(path),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return path.read_bytes()


# ---- the plain copy (runs as a child process: `bench_delivery.py --plain-copy SPEC.json`) ----


async def plain_copy(spec_path: Path) -> None:
    import httpx

    spec = json.loads(await asyncio.to_thread(spec_path.read_text))
    folder = Path(spec["folder"])
    started = time.monotonic()

    async def one(client: httpx.AsyncClient, i: int, url: str, chat_id: int) -> int:
        dest = folder / f"copy-{i}.mp3"
        async with client.stream("GET", url) as response:
            response.raise_for_status()
            with dest.open("wb") as fh:
                async for chunk in response.aiter_bytes(65536):
                    await asyncio.to_thread(fh.write, chunk)
        with dest.open("rb") as fh:
            reply = await client.post(
                spec["send_audio"],
                data={"chat_id": str(chat_id), "title": f"song {i}"},
                files={"audio": (f"song-{i}.mp3", fh, "audio/mpeg")},
            )
        reply.raise_for_status()
        return dest.stat().st_size

    timeout = httpx.Timeout(120.0)
    async with httpx.AsyncClient(timeout=timeout, trust_env=False) as client:
        sizes = await asyncio.gather(
            *(
                one(client, i, url, chat)
                for i, (url, chat) in enumerate(zip(spec["urls"], spec["chats"], strict=True))
            )
        )
    elapsed = time.monotonic() - started
    print(json.dumps({"seconds": elapsed, "bytes": sum(sizes)}), flush=True)


async def one_plain_copy(spec_path: Path, tmp: Path, attempt: int) -> tuple[float, float]:
    """Run the plain copy as its own process: (seconds, peak RSS in MB)."""
    copier = Child(
        [PYTHON, str(ROOT / "bench" / "bench_delivery.py"), "--plain-copy", str(spec_path)],
        {**os.environ, "PYTHONPATH": str(ROOT)},
        tmp,
        tmp / f"copy-{attempt}.log",
    )
    copier.start()
    copier_peak = RssSampler(copier.pid, interval=0.005)
    await wait_until(lambda: copier.memory()["VmRSS"] > 0, timeout=10, what="copier")
    copier_peak.start()
    await wait_until(lambda: not copier.alive(), timeout=600, interval=0.01, what="copy")
    rss = await copier_peak.stop()
    await copier.stop()
    result = json.loads(copier.log_path.read_text().strip().splitlines()[-1])
    return float(result["seconds"]), rss


# ---- the benchmark ----


async def run(args: argparse.Namespace, tmp: Path) -> list[tuple[str, str]]:
    from songbot_fakes.aimlapi import FakeAimlApi
    from songbot_fakes.telegram import FakeTelegram

    song = make_song(tmp.parent / f"songbot-bench-song-{args.mb:g}mb.mp3", args.mb)
    rows: list[tuple[str, str]] = []
    # History (as after a while in production): ten earlier songs took `complete_after` s, so
    # the bot polls every SONGBOT_POLL_INTERVAL around then and notices all 20 together.
    now = time.time()
    await insert_jobs(
        tmp / "delivery.db",
        [
            {
                "key": f"history-{i}",
                "chat_id": 1,
                "chat_type": "private",
                "user_id": 1,
                "request_message_id": i + 1,
                "model": "minimax/music-2.0",
                "lyrics": LYRICS,
                "state": "delivered",
                "generation_id": f"history-{i}",
                "deadline_at": now,
                "submitted_at": now - 600 + i * 30,
                "completed_at": now - 600 + i * 30 + args.complete_after,
                "outcome_sent_at": now,
                "created_at": now - 600,
                "updated_at": now,
            }
            for i in range(10)
        ],
    )
    async with FakeTelegram(flood_limits=False) as tg, FakeAimlApi() as api:
        api.set_outcome(generation_seconds=args.complete_after)
        env = bot_env(
            telegram_base=tg.base_url,
            token=tg.token,
            aimlapi_base=api.base_url,
            api_key=api.api_key,
            db=tmp / "delivery.db",
            SONGBOT_POLL_INTERVAL="0.2",
            SONGBOT_MAX_JOBS_TOTAL=str(args.songs),
            SONGBOT_MAX_JOBS_PER_CHAT=str(args.songs),
        )
        profile = tmp / "delivery.prof" if args.profile else None
        if args.no_cover:
            script = str(ROOT / "bench" / "without_cover.py")
            child = Child([PYTHON, script], env, tmp, tmp / "delivery.log")
        else:
            child = songbot(env, tmp, tmp / "delivery.log", profile=profile)
        child.start()
        try:
            await wait_until(lambda: tg.polls_waiting > 0, timeout=60, what="start", child=child)
            await asyncio.sleep(1.0)
            chats = [FIRST_USER + i for i in range(args.songs)]
            for chat in chats:
                tg.send_text(
                    chat, chat, "/song dreamy synth-pop\n[Verse]\nNeon lights over the bay"
                )

            def all_submitted() -> bool:
                for gen in api.generations.values():
                    gen.audio = song  # before they complete: every song is the big one
                return len(api.generations) >= args.songs

            await wait_until(all_submitted, timeout=60, interval=0.005, what="submits")
            gens = list(api.generations.values())
            spread = max(g.created_at for g in gens) - min(g.created_at for g in gens)
            # Baseline just before the songs complete, then watch the peak from there.
            await wait_until(
                lambda: (
                    time.monotonic() >= min(g.created_at for g in gens) + args.complete_after - 0.3
                ),
                timeout=120,
                what="completion",
            )
            base = child.memory()["VmRSS"]
            hwm_reset = reset_peak(child.pid)
            sampler = RssSampler(child.pid, interval=0.005)
            sampler.start()
            cpu0 = child.cpu()
            if profile:
                child.signal(signal.SIGUSR1)

            def all_sent() -> bool:
                return (
                    len({c.params.get("chat_id") for c in tg.calls_to("sendAudio") if c.ok})
                    >= args.songs
                )

            done = await wait_until(
                all_sent, timeout=600, interval=0.01, what="sendAudio", child=child
            )
            sampled = await sampler.stop()
            if profile:
                child.signal(signal.SIGUSR2)
            mem = child.memory()
            cpu = child.cpu() - cpu0
        finally:
            await child.stop()
        completed = min(api.completed_at.values())
        downloads = api.requests_to("GET /files")
        first_download = min(r.time for r in downloads)
        uploaded = [c for c in tg.calls_to("sendAudio") if c.ok]
        sizes = {c.files["audio"].size for c in uploaded}
        assert sizes == {len(song)}, f"uploaded sizes {sizes} != {len(song)}"
        peak = mem["VmHWM"] if hwm_reset else sampled
        bot_seconds = done - first_download
        starts = {c.params.get("chat_id"): c.time for c in uploaded}
        rows.append(("songs x size", f"{args.songs} x {len(song) / 1e6:.1f} MB"))
        rows.append(("submits spread over", f"{spread:.2f} s"))
        rows.append(("bot RSS just before completion", f"{base:.1f} MB"))
        rows.append(
            (
                "bot peak RSS during delivery (VmHWM / sampled every 5 ms)",
                f"{mem['VmHWM'] if hwm_reset else float('nan'):.1f} MB / {sampled:.1f} MB",
            )
        )
        rows.append(
            (
                "peak growth: total / per concurrent delivery",
                f"{peak - base:.1f} MB / {(peak - base) / args.songs:.2f} MB",
            )
        )
        rows.append(("bot: first download to last sendAudio", f"{bot_seconds:.2f} s"))
        by_token = {g.file_token: g for g in gens}
        fetched: dict[str, float] = {}
        for r in downloads:
            gen = by_token.get(r.path.rsplit("/", 1)[-1].rsplit(".", 1)[0])
            if gen is not None:
                fetched.setdefault(gen.id, r.time)
        gaps = sorted(starts.values())
        if args.verbose:
            polls = api.requests_to("GET /v2/generate/audio")
            for gen in sorted(gens, key=lambda g: g.created_at):
                seen = [
                    round(r.time - gen.created_at, 2)
                    for r in polls
                    if r.query.get("generation_id") == gen.id
                ]
                print(
                    f"  {gen.id[:8]}: submit +{gen.created_at - gens[0].created_at:.2f}, "
                    f"done +{(gen.completed_at or 0) - gen.created_at:.2f}, polls {seen}, "
                    f"download +{fetched[gen.id] - gen.created_at:.2f}"
                )
        rows.append(
            (
                "bot: downloads start within / sendAudio uploads start within",
                f"{max(fetched.values()) - first_download:.2f} s / "
                f"{gaps[-1] - gaps[0]:.2f} s (first upload {gaps[0] - first_download:.2f} s "
                "after the first download)",
            )
        )
        rows.append(("bot: provider completion to last sendAudio", f"{done - completed:.2f} s"))
        waits = sorted(t - completed for t in starts.values())
        rows.append(
            (
                "bot: completion to each song's upload start: median / max",
                f"{statistics.median(waits):.2f} s / {waits[-1]:.2f} s",
            )
        )
        rows.append(("bot CPU during delivery (own, without ffmpeg)", f"{cpu:.2f} s"))

        # The plain copy: the same bytes, the same two servers, a bare httpx client.
        spec = {
            "folder": str(tmp),
            "urls": [api.audio_url_for(g.id) for g in gens],
            "chats": chats,
            "send_audio": f"{tg.base_url}/bot{tg.token}/sendAudio",
        }
        spec_path = tmp / "copy.json"
        spec_path.write_text(json.dumps(spec))
        # Loopback copies of 200 MB vary by ±25 % from run to run on a shared machine: the
        # copy runs `--copies` times and the ratio is taken against the median.
        copies: list[float] = []
        copy_rss = 0.0
        for attempt in range(args.copies):
            seconds, rss = await one_plain_copy(spec_path, tmp, attempt)
            copies.append(seconds)
            copy_rss = max(copy_rss, rss)
        copy_seconds = statistics.median(copies)
        rows.append(
            (
                f"plain httpx copy: download + upload, all songs (median of {len(copies)})",
                f"{copy_seconds:.2f} s ({', '.join(f'{c:.2f}' for c in copies)})",
            )
        )
        rows.append(("plain httpx copy: peak RSS (sampled)", f"{copy_rss:.1f} MB"))
        rows.append(("bot / plain copy (time)", f"{bot_seconds / copy_seconds:.2f}x"))
    return rows


async def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--plain-copy":
        await plain_copy(Path(sys.argv[2]))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--songs", type=int, default=20)
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--complete-after", type=float, default=6.0, help="generation seconds")
    parser.add_argument("--workdir", help="keep logs and files in this folder")
    parser.add_argument("--profile", action="store_true", help="profile the bot's delivery")
    parser.add_argument("--verbose", action="store_true", help="print each song's timeline")
    parser.add_argument("--copies", type=int, default=3, help="plain copies to take the median of")
    parser.add_argument(
        "--no-cover", action="store_true", help="diagnostic: the bot with cover art off"
    )
    args = parser.parse_args()
    print(header(f"bench_delivery: {args.songs} songs of {args.mb:g} MB completing at once"))
    with workdir(args.workdir) as tmp:
        rows = await run(args, tmp)
    print()
    print(table("delivery", ["measure", "value"], rows))
    print(f"\nload average at end: {loadavg()}")


if __name__ == "__main__":
    asyncio.run(main())
