"""Where an audio download may go: http(s) only, and never into our own network by surprise.

Why: the provider's result URL and every redirect from it are chosen by someone else. Following
them blindly let a URL (or a redirect) reach loopback services, the cloud metadata address
(169.254.169.254) or private hosts. Each hop is checked before it is requested: link-local and
other special addresses are always refused; loopback and private ones only when the configured
provider base is itself such an address (a local fake in tests, a proxy on the LAN).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from typing import Final
from urllib.parse import urlsplit

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_REDIRECTS: Final = 5


class TargetRefused(Exception):
    """This URL may not be fetched; the message says why (no secrets, no query string)."""


def _kind(address: _IPAddress) -> str:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "loopback"
    if address.is_link_local or address.is_multicast or address.is_unspecified:
        return "special"
    if address.is_reserved:
        return "special"
    if address.is_private:
        return "private"
    return "public"


def _literal(host: str) -> _IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def _addresses(host: str, port: int) -> list[_IPAddress]:
    literal = _literal(host)
    if literal is not None:
        return [literal]
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return [ipaddress.ip_address("127.0.0.1")]
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return []  # unresolvable: the request itself will fail as a transport error
    found: list[_IPAddress] = []
    for info in infos:
        with contextlib.suppress(ValueError):
            found.append(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]))
    return found


async def allowed_kinds(base_url: str) -> frozenset[str]:
    """The address kinds downloads may reach, given where the provider itself lives."""
    parts = urlsplit(base_url)
    kinds = {"public"}
    for address in await _addresses(parts.hostname or "", parts.port or 443):
        kind = _kind(address)
        if kind in ("loopback", "private"):
            kinds.update(("loopback", "private"))
    return frozenset(kinds)


async def check_target(url: str, allowed: frozenset[str]) -> None:
    """Raise `TargetRefused` unless `url` is http(s) and every address it names is allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused(f"not an http(s) URL ({parts.scheme or 'no scheme'})")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    for address in await _addresses(parts.hostname, port):
        kind = _kind(address)
        if kind not in allowed:
            raise TargetRefused(f"{parts.hostname} is a {kind} address ({address})")
