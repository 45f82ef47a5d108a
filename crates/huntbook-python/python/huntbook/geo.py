"""Where IP addresses are and who holds them: GeoIP, whois and IP types.

MSTICPy's names and columns: ``geoip`` adds the ``GeoLocation`` fields
(``CountryCode, CountryOrRegionName, State, City, Longitude, Latitude``, plus ``Asn``
and ``AsnOrg`` from an ASN database) to each row, as ``GeoLiteLookup.df_lookup_ip``
does; ``whois`` adds ``AsnDescription`` and the ``ip_whois`` columns (``asn``,
``asn_cidr``, ..., ``nets``), as ``get_whois_df`` does; ``ip_type`` is
``get_ip_type``. The lookups run in Rust without the GIL.

Example::

    import huntbook
    signins = huntbook.geoip(signins, ip_column="SourceIP")
    signins = huntbook.whois(signins, ip_column="SourceIP")
    huntbook.ip_type("10.1.2.3")            # 'Private'
"""

from __future__ import annotations

import json
import os
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import pandas as pd

from huntbook import _huntbook
from huntbook._tables import text_batch, to_frame

__all__ = ["geoip", "whois", "ip_type", "is_global_ip", "write_mmdb"]

Addresses = Union[pd.DataFrame, str, Iterable[str]]


def _frame_and_column(data: Addresses, column: Optional[str], ip_column: Optional[str]) -> "tuple[pd.DataFrame, str]":
    """The rows to enrich and their address column; addresses given as text or a
    list become a frame with one ``IpAddress`` column."""
    if column is not None and ip_column is not None and column != ip_column:
        raise TypeError("give the address column once: column= or its alias ip_column=")
    column = column if column is not None else ip_column
    if isinstance(data, pd.DataFrame):
        if column is None:
            raise TypeError("name the column that holds the addresses: column= (or ip_column=)")
        return data, column
    addresses = [data] if isinstance(data, str) else [str(ip) for ip in data]
    return pd.DataFrame({"IpAddress": addresses}), "IpAddress"


def _joined(data: pd.DataFrame, column: str, batch: Any) -> pd.DataFrame:
    """``data`` with the answer columns of ``batch`` (which starts with ``column``)."""
    added = to_frame(batch).drop(columns=[column])
    added.index = data.index
    kept = data.drop(columns=[c for c in added.columns if c in data.columns])
    return pd.concat([kept, added], axis=1)


def geoip(
    data: Addresses,
    ip_column: Optional[str] = None,
    *,
    column: Optional[str] = None,
    provider: str = "maxmind",
    databases: Optional[Sequence[Union[str, os.PathLike]]] = None,
    download: bool = True,
    service_url: Optional[str] = None,
) -> pd.DataFrame:
    """Add the location of each row's IP address.

    Args:
        data: a DataFrame, or one address or a list of them (then the result has an
            ``IpAddress`` column).
        ip_column: the column holding the addresses (alias: ``column``).
        provider: ``"maxmind"`` (``.mmdb`` databases: GeoLite2/GeoIP2 City or Country,
            and GeoLite2-ASN when present) or ``"ipstack"`` (the IPStack service, key
            from ``OtherProviders.IPStack.Args.AuthKey``).
        databases: ``.mmdb`` files to use instead of the configured folder
            (``OtherProviders.GeoIPLite.Args.DBFolder``, default ``~/.msticpy/GeoLite2``).
        download: with ``AccountID`` and ``AuthKey`` configured, download GeoLite2-City
            when it is missing or more than 30 days old.
        service_url: another download URL (maxmind) or service URL (ipstack).

    Private and other non-public addresses read "Private address" /
    "location unknown"; addresses no database holds get empty cells.

    Example::

        >>> huntbook.geoip(["81.2.69.160"])[["IpAddress", "City"]]
             IpAddress    City
        0  81.2.69.160  London
    """
    frame, column = _frame_and_column(data, column, ip_column)
    batch = _huntbook.geoip_lookup(
        text_batch(frame, [column]),
        column,
        provider=provider,
        databases=[os.fspath(p) for p in databases or []],
        download=download,
        service_url=service_url,
    )
    return _joined(frame, column, batch)


def _plain_nets(nets: Any) -> list:
    """A ``nets`` cell as MSTICPy has it: a list of dicts with ``emails`` lists."""
    if nets is None or (isinstance(nets, float) and pd.isna(nets)):
        return []
    return [{**net, "emails": list(net["emails"] if net["emails"] is not None else [])} for net in nets]


def whois(
    data: Addresses,
    ip_column: Optional[str] = None,
    *,
    column: Optional[str] = None,
    rdap_bootstrap: Optional[str] = None,
    cymru_server: Optional[str] = None,
    rate: int = 4,
    concurrency: int = 8,
    timeout: float = 30.0,
) -> pd.DataFrame:
    """Add the AS (Team Cymru) and registered networks (RDAP) of each row's address.

    Adds ``AsnDescription``, ``query``, ``asn``, ``asn_cidr``, ``asn_country_code``,
    ``asn_registry``, ``asn_date``, ``asn_description``, ``nets`` (a list of dicts:
    cidr, range, name, handle, country, startAddress, endAddress, created, updated,
    address, emails, source) and ``whois_error`` (why part of a row's answer is
    missing; one address failing never fails the others).

    Args:
        data: a DataFrame, or one address or a list of them.
        ip_column: the column holding the addresses (alias: ``column``).
        rdap_bootstrap: the folder of IANA's bootstrap files (default IANA's).
        cymru_server: the Team Cymru whois server, ``host:port``.
        rate: RDAP requests per second to one registry.
        concurrency: RDAP lookups in flight at once.
        timeout: the longest wait for one answer, in seconds.
    """
    frame, column = _frame_and_column(data, column, ip_column)
    batch = _huntbook.whois_lookup(
        text_batch(frame, [column]),
        column,
        rdap_bootstrap=rdap_bootstrap,
        cymru_server=cymru_server,
        rate=rate,
        concurrency=concurrency,
        timeout=timeout,
    )
    result = _joined(frame, column, batch)
    result["nets"] = result["nets"].map(_plain_nets)
    return result


def ip_type(ip: Optional[str] = None, *, ip_str: Optional[str] = None) -> str:
    """MSTICPy's type of an address: Public, Private, Loopback, Multicast, Link Local,
    Reserved or Unspecified (the first that holds, in MSTICPy's order).

    Example::

        >>> huntbook.ip_type("10.1.2.3")
        'Private'
    """
    address = ip if ip is not None else ip_str
    if address is None:
        raise TypeError("give the address: ip_type('10.1.2.3')")
    return _huntbook.ip_type(address)


def is_global_ip(ip: str) -> bool:
    """Whether an address is globally routable (not private, shared or reserved)."""
    return _huntbook.is_global_ip(ip)


def write_mmdb(
    path: Union[str, os.PathLike],
    networks: Mapping[str, Mapping[str, Any]],
    database_type: str = "GeoLite2-City",
    description: str = "",
) -> None:
    """Write a MaxMind DB (``.mmdb``) file of your own networks, readable by
    :func:`geoip` and by MaxMind's readers.

    Args:
        path: the file to write (written to a temporary file, then renamed).
        networks: CIDR network -> record, in MaxMind's layout, e.g.
            ``{"81.2.69.0/24": {"city": {"names": {"en": "London"}}}}``. A network
            listed later wins over the parts of earlier ones it overlaps.
        database_type: the metadata type; a name containing "ASN" makes an ASN
            database (``autonomous_system_number``, ``autonomous_system_organization``).
    """
    _huntbook.write_mmdb(
        os.fspath(path),
        [(str(net), json.dumps(record)) for net, record in networks.items()],
        database_type,
        description,
    )
