"""Where an audio download may go: http(s) only, public addresses only, and exactly the address
that was checked.

Why: the provider's result URL and every redirect from it are chosen by someone else. Following
them blindly let a URL (or a redirect) reach loopback services, cloud metadata addresses
(169.254.169.254, Alibaba's 100.100.100.200) or private hosts. Each hop is resolved once and
checked before it is requested (#24.11):

* only addresses `ipaddress` calls global are allowed, with the special-purpose ranges Python
  3.11 still counts as global added (192.0.0.0/24, multicast), and the IPv4 address inside a
  6to4, Teredo, NAT64 or IPv4-mapped IPv6 address checked as well;
* a name that does not resolve is refused (it used to be let through to resolve again later);
* the connection goes to the checked address (`Target.connect_url`) while the Host header and
  TLS SNI keep the name, so a second DNS answer (rebinding) is never asked for.

A non-global address is allowed only when it is given explicitly in `also_allow`: in production
the provider's own address when the operator points AIMLAPI_BASE_URL at a local proxy or fake
(`UrlGuard.for_provider`); tests pass loopback and a resolver of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]
MAX_REDIRECTS: Final = 5

# Not globally reachable (IANA special-purpose registries) although Python 3.11's `is_global`
# says otherwise, or kept out anyway: protocol assignments, the 6to4 relay anycast, benchmarks,
# and NAT64's local-use prefix.
_NOT_GLOBAL: Final = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "192.88.99.0/24",
        "198.18.0.0/15",
        "240.0.0.0/4",
        "64:ff9b:1::/48",
    )
)
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")


class TargetRefused(Exception):
    """This URL may not be fetched; the message says why (no secrets, no query string)."""


def _embedded(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries, each of which must be public as well."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_public(address: IPAddress) -> bool:
    """True only for an address every range check calls global, and its embedded IPv4 too."""
    for each in (address, *_embedded(address)):
        if not each.is_global or each.is_multicast:
            return False
        if any(each.version == net.version and each in net for net in _NOT_GLOBAL):
            return False
    return True


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for `host` (empty when it does not resolve)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return []
    found: list[IPAddress] = []
    for info in infos:
        with contextlib.suppress(ValueError):
            found.append(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]))
    return found


@dataclass(frozen=True, slots=True)
class Target:
    """A checked URL and the address to connect to for it."""

    url: httpx.URL
    address: IPAddress

    @property
    def connect_url(self) -> httpx.URL:
        """The URL with the checked address in place of the name: nothing is resolved again."""
        return self.url.copy_with(host=str(self.address))

    @property
    def host_header(self) -> str:
        return self.url.netloc.decode("ascii")

    @property
    def sni_hostname(self) -> str | None:
        """The name TLS must verify the certificate for (None for an address in the URL)."""
        if self.url.scheme != "https" or _literal(self.url.host) is not None:
            return None
        return self.url.host


class UrlGuard:
    """Resolves and checks a URL; `resolver` and `also_allow` are explicit so tests can map a
    name to loopback without the bot ever allowing loopback by itself."""

    def __init__(
        self,
        *,
        resolver: Resolver = system_resolver,
        also_allow: Iterable[IPAddress] = (),
    ) -> None:
        self._resolver = resolver
        self.also_allow = frozenset(also_allow)

    @classmethod
    async def for_provider(cls, base_url: str, resolver: Resolver = system_resolver) -> UrlGuard:
        """A guard that also allows the provider's own address when it is not public (a local
        fake or a proxy on the LAN the operator configured as AIMLAPI_BASE_URL)."""
        guard = cls(resolver=resolver)
        parts = urlsplit(base_url)
        own = await guard._addresses(parts.hostname or "", parts.port or 443)
        return cls(resolver=resolver, also_allow=[a for a in own if not is_public(a)])

    def allows(self, address: IPAddress) -> bool:
        return address in self.also_allow or is_public(address)

    async def check(self, url: str) -> Target:
        """The address to fetch `url` from, or `TargetRefused` (not http(s), does not resolve,
        or any address it resolves to is not allowed)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TargetRefused(f"not an http(s) URL ({parts.scheme or 'no scheme'})")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
            parsed = httpx.URL(url)
        except (ValueError, httpx.InvalidURL):
            raise TargetRefused("not a valid URL") from None
        addresses = await self._addresses(parts.hostname, port)
        if not addresses:
            raise TargetRefused(f"{parts.hostname} does not resolve")
        for address in addresses:
            if not self.allows(address):
                raise TargetRefused(f"{parts.hostname} is not a public address ({address})")
        return Target(parsed, addresses[0])

    async def _addresses(self, host: str, port: int) -> list[IPAddress]:
        literal = _literal(host)
        if literal is not None:
            return [literal]
        if host.lower() == "localhost" or host.lower().endswith(".localhost"):
            return [ipaddress.ip_address("127.0.0.1")]
        return list(await self._resolver(host, port))
