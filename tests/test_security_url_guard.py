"""Issue #24.11: a result URL (and each redirect) may only lead to a public address, a name must
resolve, and the download connects to the address that was checked (no DNS-rebinding window).

Through the real bot against the fakes, on loopback only: the guard's resolver is injected and
maps test names to 127.0.0.1 (allowed explicitly, as the provider's own address is) or to the
addresses under test, so nothing is ever resolved or fetched outside this machine.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import pytest

from bot.aimlapi.url_guard import IPAddress, UrlGuard, is_public
from tests.support.harness import PRIVATE_CHAT, USER, BotHarness
from tests.support.song_outcome import FILES, SONG, one_outcome

LOOPBACK = ipaddress.ip_address("127.0.0.1")


class FakeDns:
    """Answers from a table; `then` is what a name resolves to after its first answer (an
    attacker's DNS rebinding to the metadata address)."""

    def __init__(self, table: dict[str, list[str]], then: list[str] | None = None) -> None:
        self.table = table
        self.then = then
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        first = host not in self.asked
        self.asked.append(host)
        answer = self.table.get(host, []) if first or self.then is None else self.then
        return [ipaddress.ip_address(a) for a in answer]


def use_guard(harness: BotHarness, dns: FakeDns) -> None:
    harness.services.client.url_guard = UrlGuard(resolver=dns, also_allow=[LOOPBACK])


def serve_files_as(harness: BotHarness, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fake hands out result URLs on `name` (still served by itself on 127.0.0.1)."""
    original: Callable[[str], str] = harness.api.audio_url_for
    monkeypatch.setattr(
        harness.api,
        "audio_url_for",
        lambda generation_id: original(generation_id).replace("//127.0.0.1:", f"//{name}:"),
    )


async def test_the_download_connects_to_the_checked_address_not_a_rebound_one(
    harness: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    dns = FakeDns({"cdn.songs.test": ["127.0.0.1"]}, then=["169.254.169.254"])
    use_guard(harness, dns)
    serve_files_as(harness, "cdn.songs.test", monkeypatch)
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    audios, failures = await one_outcome(harness, request["message_id"])
    assert audios == 1, failures
    # Resolved once, for the check; the connection went to that answer (127.0.0.1, where the
    # fake listens), with the name kept in the Host header.
    assert dns.asked == ["cdn.songs.test"]
    fetched = harness.api.requests_to(FILES)
    assert len(fetched) == 1
    port = harness.api.base_url.rsplit(":", 1)[1]
    assert fetched[0].header("host") == f"cdn.songs.test:{port}"


@pytest.mark.parametrize(
    "address",
    ["100.100.100.200", "192.0.0.192", "2002:a9fe:a9fe::1", None],
    ids=["alibaba-metadata", "ietf-protocol-assignment", "6to4-of-link-local", "unresolvable"],
)
async def test_a_redirect_to_a_name_of_a_non_public_address_is_refused(
    harness: BotHarness, address: str | None
) -> None:
    dns = FakeDns({"meta.songs.test": [address] if address else []})
    use_guard(harness, dns)
    harness.api.file_redirect = "http://meta.songs.test/latest/meta-data/"
    request = harness.tg.send_text(PRIVATE_CHAT, USER, SONG)
    audios, failures = await one_outcome(harness, request["message_id"])
    assert audios == 0 and "couldn't download" in failures[0]
    job = (await harness.jobs())[0]
    assert job.state == "failed" and job.error_key == "error_audio_download"
    assert len(harness.api.requests_to(FILES)) == 1  # refused before connecting, not retried
    assert "meta.songs.test" in dns.asked


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("100.100.100.200", False),  # shared address space (Alibaba Cloud metadata)
        ("192.0.0.192", False),  # IETF protocol assignments (Python 3.11 says global)
        ("2002:a9fe:a9fe::1", False),  # 6to4 around 169.254.169.254
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 around 169.254.169.254
        ("::ffff:169.254.169.254", False),
        ("224.0.0.1", False),
        ("ff02::1", False),
        ("169.254.169.254", False),
        ("10.1.2.3", False),
        ("127.0.0.1", False),
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("2002:808:808::1", True),  # 6to4 around a public address
    ],
)
def test_only_global_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public
