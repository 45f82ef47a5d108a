"""huntbook.detect on the sample dataset: the planted password spray and impossible
travel are found, with their evidence rows, and nothing else; coordinates come from
GeoIP when the sign-ins have none."""

import pandas as pd
import pytest

import huntbook

ANCHOR = "2026-11-01T12:00:00Z"


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sample")
    huntbook.write_sample_data(folder, rows=3000, seed=5, anchor=ANCHOR)
    return lambda table: pd.read_parquet(folder / f"{table}.parquet")


def test_the_password_spray_and_its_success_are_the_only_brute_force(sample):
    logons = sample("logons")
    found = huntbook.detect.brute_force(logons)
    assert set(found.FindingId) == {0}
    assert len(found) == 241
    assert (found.IpAddress == "198.51.100.23").all()
    assert found.Detection.iloc[0] == "password spray"
    assert found.Severity.iloc[0] == "High"
    assert found.Reason.iloc[0].endswith("then a successful logon as svc_backup")
    # The evidence keeps the input's index and rows: the success is the last one.
    pd.testing.assert_frame_equal(found[logons.columns], logons.loc[found.index], check_dtype=False)
    assert found.EventID.iloc[-1] == 4624
    # Stricter settings find nothing; looser ones find more, not fewer.
    assert huntbook.detect.brute_force(logons, min_failures=500).empty
    assert len(huntbook.detect.brute_force(logons, min_failures=2, max_gap_minutes=60)) >= 241


def test_the_impossible_travel_is_found_from_coordinates_and_from_geoip(sample, tmp_path):
    signins = sample("signins")
    found = huntbook.detect.impossible_travel(signins)
    assert set(found.FindingId) == {0}
    assert (found.UserPrincipalName == "carol@contoso.com").all()
    assert found.Reason.iloc[0].startswith("carol@contoso.com: London -> Sydney, 16994 km in ")
    assert "Sydney" in set(found.City)

    # Without coordinates, GeoIP supplies them from the sign-in addresses.
    mmdb = tmp_path / "offices.mmdb"
    place = lambda city, lat, lon: {"city": {"names": {"en": city}}, "location": {"latitude": lat, "longitude": lon}}
    huntbook.write_mmdb(
        mmdb,
        {
            "81.2.69.142/32": place("London", 51.5072, -0.1276),
            "81.2.69.160/32": place("Manchester", 53.4808, -2.2426),
            "216.160.83.56/32": place("Seattle", 47.6062, -122.3321),
            "45.142.120.9/32": place("Sydney", -33.8688, 151.2093),
        },
    )
    bare = signins.drop(columns=["Latitude", "Longitude"])
    looked_up = huntbook.detect.impossible_travel(bare, geoip_databases=[mmdb])
    assert list(looked_up.index) == list(found.index)
    assert looked_up.Reason.iloc[0] == found.Reason.iloc[0]
    assert looked_up.Latitude.notna().all()


def test_the_beacon_is_the_only_beaconing(sample):
    flows = sample("network")
    found = huntbook.detect.beaconing(flows)
    assert set(found.FindingId) == {0}
    assert (found.DestinationIP == "203.0.113.66").all() and (found.SourceIP == "10.0.1.57").all()
    assert found.Severity.iloc[0] == "High"
    assert len(found) == len(flows[flows.DestinationIP == "203.0.113.66"])
    assert found.TimeGenerated.is_monotonic_increasing
    with pytest.raises(ValueError, match="group_by"):
        huntbook.detect.beaconing(flows[["TimeGenerated", "DeviceName"]])


def test_bad_input_names_the_problem(sample):
    with pytest.raises(ValueError, match="IpAddress, IPAddress, SourceIP, ClientIP"):
        huntbook.detect.brute_force(pd.DataFrame({"TimeGenerated": pd.to_datetime(["2026-01-01"]), "Who": ["x"]}))
    with pytest.raises(ValueError, match="no 'Latitude'/'Longitude' coordinates and no address"):
        huntbook.detect.impossible_travel(pd.DataFrame({"TimeGenerated": pd.to_datetime(["2026-01-01"]), "UserId": ["x"]}))
    with pytest.raises(ValueError, match="no column 'When'"):
        huntbook.detect.brute_force(sample("logons"), time_column="When")
