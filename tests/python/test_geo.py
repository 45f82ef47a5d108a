"""huntbook.geoip / whois / ip_type / write_mmdb against the reference libraries:
MSTICPy's get_ip_type, MaxMind's own readers (maxminddb, geoip2), and whois services
played by local servers speaking RDAP and Team Cymru's bulk protocol."""

import ipaddress
import json
import pathlib
import random
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest

import huntbook

TEST_DBS = pathlib.Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "maxmind-test-dbs"


def test_ip_type_agrees_with_msticpy():
    from msticpy.context.ip_utils import get_ip_type

    rng = random.Random(5)
    samples = [
        "8.8.8.8", "10.1.2.3", "172.16.0.1", "192.168.1.1", "127.0.0.1", "169.254.1.1",
        "224.0.0.1", "0.0.0.0", "240.0.0.1", "255.255.255.255", "100.64.0.1", "192.0.0.9",
        "192.0.2.1", "198.18.0.1", "::1", "::", "fe80::1", "fc00::1", "ff02::1",
        "2001:db8::1", "2001:4860:4860::8888", "::ffff:8.8.8.8", "::ffff:10.0.0.1",
        "2002::1", "4000::1", "::214.0.0.1", "100::1", "2001:10::1", "fec0::1",
    ]
    samples += [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(3000)]
    samples += [str(ipaddress.IPv6Address(rng.getrandbits(128))) for _ in range(500)]
    differ = [(ip, huntbook.ip_type(ip), get_ip_type(ip)) for ip in samples if huntbook.ip_type(ip) != get_ip_type(ip)]
    assert differ == []
    assert huntbook.ip_type(ip_str="10.0.0.1") == "Private"
    with pytest.raises(ValueError, match="'10.0.0.300' is not an IPv4 or IPv6 address"):
        huntbook.ip_type("10.0.0.300")


CITY = {
    "81.2.69.0/24": {
        "country": {"iso_code": "GB", "names": {"en": "United Kingdom", "de": "Vereinigtes Königreich"}},
        "subdivisions": [{"iso_code": "ENG", "names": {"en": "England"}}],
        "city": {"geoname_id": 2643743, "names": {"en": "London"}},
        "location": {"latitude": 51.5142, "longitude": -0.0931, "accuracy_radius": 10},
        "registered_country": {"is_in_european_union": False},
    },
    "2001:4860::/32": {"country": {"iso_code": "US", "names": {"en": "United States"}}},
}


def test_written_databases_read_back_with_maxminds_reader(tmp_path):
    import maxminddb

    path = tmp_path / "sites.mmdb"
    huntbook.write_mmdb(path, CITY, database_type="Sites-City", description="our offices")
    with maxminddb.open_database(str(path)) as reader:
        assert reader.metadata().database_type == "Sites-City"
        assert reader.metadata().description == {"en": "our offices"}
        assert reader.get("81.2.69.160") == CITY["81.2.69.0/24"]
        assert reader.get("2001:4860::8888") == CITY["2001:4860::/32"]
        assert reader.get("81.2.70.1") is None
    with pytest.raises(ValueError, match="'81.2.69/99' is not a network"):
        huntbook.write_mmdb(tmp_path / "bad.mmdb", {"81.2.69/99": {}})
    assert not (tmp_path / "bad.mmdb").exists()


def test_geoip_joins_locations_to_rows(tmp_path):
    huntbook.write_mmdb(tmp_path / "GeoLite2-City.mmdb", CITY)
    huntbook.write_mmdb(
        tmp_path / "GeoLite2-ASN.mmdb",
        {"81.2.69.0/24": {"autonomous_system_number": 20712, "autonomous_system_organization": "Andrews & Arnold Ltd"}},
        database_type="GeoLite2-ASN",
    )
    dbs = [tmp_path / "GeoLite2-City.mmdb", tmp_path / "GeoLite2-ASN.mmdb"]
    signins = pd.DataFrame(
        {"User": ["ann", "bob", "cy", "dee"], "SourceIP": ["81.2.69.160", "10.0.0.7", None, "9.9.9.9"]},
        index=[10, 20, 30, 40],
    )
    out = huntbook.geoip(signins, ip_column="SourceIP", databases=dbs)
    assert list(out.index) == [10, 20, 30, 40]
    assert list(out.columns) == [
        "User", "SourceIP", "CountryCode", "CountryOrRegionName", "State", "City",
        "Longitude", "Latitude", "Asn", "AsnOrg",
    ]
    london = out.loc[10]
    assert (london.CountryCode, london.State, london.City) == ("GB", "England", "London")
    assert (london.Latitude, london.Longitude) == (51.5142, -0.0931)
    assert (london.Asn, london.AsnOrg) == (20712, "Andrews & Arnold Ltd")
    assert (out.loc[20].CountryOrRegionName, out.loc[20].City) == ("Private address", "location unknown")
    assert pd.isna(out.loc[30].City) and pd.isna(out.loc[40].City)
    same = huntbook.geoip(signins, column="SourceIP", databases=dbs)
    pd.testing.assert_frame_equal(out, same)
    listed = huntbook.geoip(["81.2.69.160", "127.0.0.1"], databases=dbs)
    assert list(listed.IpAddress) == ["81.2.69.160", "127.0.0.1"]
    assert list(listed.CountryOrRegionName) == ["United Kingdom", "Loopback address"]


def test_geoip_reads_the_configured_folder(tmp_path, monkeypatch):
    huntbook.write_mmdb(tmp_path / "geo" / "GeoLite2-City.mmdb", CITY)
    (tmp_path / "huntbook.yaml").write_text("OtherProviders:\n  GeoIPLite:\n    Args:\n      DBFolder: geo\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("HUNTBOOK_CONFIG", raising=False)
    monkeypatch.delenv("MSTICPYCONFIG", raising=False)
    out = huntbook.geoip("81.2.69.1")
    assert out.City.tolist() == ["London"]


def test_geoip_errors_name_the_problem(tmp_path):
    with pytest.raises(KeyError, match="'SrcIP' is not in the DataFrame"):
        huntbook.geoip(pd.DataFrame({"SourceIP": ["1.1.1.1"]}), ip_column="SrcIP", databases=[tmp_path / "x.mmdb"])
    with pytest.raises(ValueError, match="cannot open the MaxMind database"):
        huntbook.geoip("1.1.1.1", databases=[tmp_path / "missing.mmdb"])
    with pytest.raises(TypeError, match="column="):
        huntbook.geoip(pd.DataFrame({"SourceIP": ["1.1.1.1"]}))


def test_geoip_matches_geoip2_on_maxminds_test_databases():
    if not TEST_DBS.is_dir():
        print(f"SKIPPED: MaxMind test databases not found at {TEST_DBS}", file=sys.stderr)
        return
    import geoip2.database
    import geoip2.errors

    db = TEST_DBS / "GeoIP2-City-Test.mmdb"
    source = json.loads((TEST_DBS / "GeoIP2-City-Test.json").read_text())
    ips = [str(ipaddress.ip_network(net).network_address) for entry in source for net in entry]
    ips = list(dict.fromkeys(ip for ip in ips if huntbook.ip_type(ip) == "Public"))
    ours = huntbook.geoip(ips, databases=[db]).set_index("IpAddress")
    checked = 0
    with geoip2.database.Reader(str(db)) as reader:
        for ip in ips:
            try:
                city = reader.city(ip)
            except geoip2.errors.AddressNotFoundError:
                assert pd.isna(ours.loc[ip].CountryCode) and pd.isna(ours.loc[ip].City)
                continue
            row = ours.loc[ip]
            state = city.subdivisions[0].names.get("en") if city.subdivisions else None
            for got, want in [
                (row.CountryCode, city.country.iso_code),
                (row.CountryOrRegionName, city.country.names.get("en")),
                (row.State, state),
                (row.City, city.city.names.get("en")),
                (row.Latitude, city.location.latitude),
                (row.Longitude, city.location.longitude),
            ]:
                assert (pd.isna(got) and want is None) or got == want, (ip, got, want)
            checked += 1
    assert checked > 100


# ---------------------------------------------------------------------------------
# Whois against local services


class _Rdap(BaseHTTPRequestHandler):
    """IANA's bootstrap file and one registry's RDAP answers (RFC 9224, RFC 9083)."""

    base = ""

    def log_message(self, *args):
        pass

    def _json(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/rdap+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/iana/ipv4.json":
            return self._json(200, {"version": "1.0", "publication": "2026-11-01T00:00:00Z",
                                    "services": [[["13.0.0.0/8"], [self.base + "/rdap/"]]]})
        if self.path.startswith("/rdap/ip/13."):
            return self._json(200, {
                "objectClassName": "ip network", "handle": "NET-13-64-0-0-1",
                "startAddress": "13.64.0.0", "endAddress": "13.127.255.255", "name": "MSFT", "country": "US",
                "events": [{"eventAction": "registration", "eventDate": "2015-03-26T14:39:02-04:00"}],
                "entities": [{"objectClassName": "entity", "roles": ["abuse"],
                              "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
                                                       ["email", {}, "text", "abuse@microsoft.com"]]]}],
                "links": [],
            })
        return self._json(404, {"errorCode": 404, "title": "Not Found"})


class _Cymru(socketserver.StreamRequestHandler):
    def handle(self):
        lines = []
        while True:
            line = self.rfile.readline().decode().strip()
            if not line or line == "end":
                break
            lines.append(line)
        answer = ["Bulk mode; whois.cymru.com [2026-11-28 10:00:00 +0000]"]
        for ip in lines[2:]:
            if ip.startswith("13."):
                answer.append(f"8068    | {ip} | 13.107.4.0/24 | US | arin | 2015-03-26 | MICROSOFT-CORP-MSN-AS-BLOCK, US")
            else:
                answer.append(f"NA      | {ip} | NA | | other | | NA")
        self.wfile.write(("\n".join(answer) + "\n").encode())


@pytest.fixture
def whois_services():
    http = ThreadingHTTPServer(("127.0.0.1", 0), _Rdap)
    _Rdap.base = f"http://127.0.0.1:{http.server_address[1]}"
    tcp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Cymru)
    for server in (http, tcp):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"{_Rdap.base}/iana/", f"127.0.0.1:{tcp.server_address[1]}"
    http.shutdown()
    tcp.shutdown()


def test_whois_adds_msticpys_columns(whois_services):
    bootstrap, cymru = whois_services
    df = pd.DataFrame({"SourceIP": ["13.107.4.50", "10.0.0.1", "13.107.4.50"]}, index=["a", "b", "c"])
    out = huntbook.whois(df, ip_column="SourceIP", rdap_bootstrap=bootstrap, cymru_server=cymru)
    assert list(out.index) == ["a", "b", "c"]
    assert list(out.columns) == [
        "SourceIP", "AsnDescription", "query", "asn", "asn_cidr", "asn_country_code",
        "asn_registry", "asn_date", "asn_description", "nets", "whois_error",
    ]
    row = out.loc["a"]
    assert row.AsnDescription == "MICROSOFT-CORP-MSN-AS-BLOCK, US"
    assert (row.asn, row.asn_cidr, row.asn_registry) == ("8068", "13.107.4.0/24", "arin")
    assert isinstance(row.nets, list) and row.nets[0]["name"] == "MSFT"
    assert row.nets[0]["cidr"] == "13.64.0.0/10"
    assert row.nets[0]["emails"] == ["abuse@microsoft.com"]
    assert row.nets[0]["created"] == "2015-03-26T14:39:02-04:00"
    assert out.loc["b"].whois_error == "Private address: not looked up"
    assert out.loc["b"].nets == []
