//! The entity types: one struct per Sentinel entity type, the [`Kind`] that names
//! them and the [`Entity`] enum that holds any of them.
//!
//! Every struct is written by one macro from a table of its properties, so that the
//! struct, its serde names, its `Type` strings and the list of properties that hold
//! other entities cannot drift apart. Properties are `String` or `bool` where Sentinel
//! documents them so; numbers, enums and nested data stay `serde_json::Value`, so
//! that `47` is written back as `47` and not `47.0`. Properties this model does not
//! name are kept in `extra`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::EntityId;

macro_rules! entity_types {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident ($tag:literal $(| $alias:literal)*) {
            $( $field:ident: $fty:ty = $fjson:literal, )*
        } links {
            $( $lfield:ident = $ljson:literal => $ltarget:ident, )*
        } lists {
            $( $mfield:ident = $mjson:literal => $mtarget:ident, )*
        }
    )*) => {
        $(
            $(#[doc = $doc])*
            ///
            /// Links to other entities are [`EntityId`]s into the [`EntityGraph`](super::EntityGraph)
            /// the entity was read into.
            #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
            pub struct $name {
                $(
                    #[doc = concat!("`", $fjson, "`")]
                    #[serde(rename = $fjson, default, skip_serializing_if = "Option::is_none")]
                    pub $field: Option<$fty>,
                )*
                $(
                    #[doc = concat!("`", $ljson, "`: a ", stringify!($ltarget), " entity")]
                    #[serde(rename = $ljson, default, skip_serializing_if = "Option::is_none")]
                    pub $lfield: Option<EntityId>,
                )*
                $(
                    #[doc = concat!("`", $mjson, "`: ", stringify!($mtarget), " entities")]
                    #[serde(rename = $mjson, default, skip_serializing_if = "Vec::is_empty")]
                    pub $mfield: Vec<EntityId>,
                )*
                /// Properties not named above, as read.
                #[serde(flatten)]
                pub extra: BTreeMap<String, Value>,
            }

            impl From<$name> for Entity {
                fn from(entity: $name) -> Entity {
                    Entity::$name(entity)
                }
            }
        )*

        /// The type of an entity, as written in the `Type` property of Sentinel's
        /// entity JSON.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kind {
            $( $name, )*
            /// A `Type` this model does not know (or none); the entity keeps its raw JSON.
            Unknown,
        }

        impl Kind {
            /// Every kind but `Unknown`.
            pub const KNOWN: &'static [Kind] = &[$(Kind::$name,)*];

            /// The `Type` string Sentinel writes for this kind (`"ip"`, `"registry-key"`).
            pub fn tag(self) -> &'static str {
                match self {
                    $( Kind::$name => $tag, )*
                    Kind::Unknown => "unknown",
                }
            }

            /// The kind a `Type` string names. Case is ignored, and the other spellings
            /// MSTICPy and the Sentinel API use are understood (`ipaddress`,
            /// `mail-message`, `machine`, `user`); anything else is `Unknown`.
            pub fn from_tag(tag: &str) -> Kind {
                $(
                    if tag.eq_ignore_ascii_case($tag) $(|| tag.eq_ignore_ascii_case($alias))* {
                        return Kind::$name;
                    }
                )*
                Kind::Unknown
            }

            /// The name of the kind's type (`IpAddress`, `RegistryKey`): the class
            /// name MSTICPy and huntbook's Python give it.
            pub fn name(self) -> &'static str {
                match self {
                    $( Kind::$name => stringify!($name), )*
                    Kind::Unknown => "Unknown",
                }
            }

            /// The kind a type name ([`Kind::name`]) names, case ignored; `None` for
            /// anything else.
            pub fn from_name(name: &str) -> Option<Kind> {
                Kind::KNOWN.iter().copied().find(|kind| kind.name().eq_ignore_ascii_case(name))
            }

            /// Every property this kind names, by its Sentinel name, those holding
            /// entities included, in declaration order.
            pub fn properties(self) -> &'static [&'static str] {
                match self {
                    $( Kind::$name => &[
                        $( $fjson, )*
                        $( $ljson, )*
                        $( $mjson, )*
                    ], )*
                    Kind::Unknown => &[],
                }
            }

            /// The properties of this kind that hold entities, each with the kind
            /// expected there (`Unknown`: whatever the entity's own `Type` says).
            pub fn links(self) -> &'static [(&'static str, Kind)] {
                match self {
                    $( Kind::$name => &[
                        $( ($ljson, Kind::$ltarget), )*
                        $( ($mjson, Kind::$mtarget), )*
                    ], )*
                    Kind::Unknown => &[],
                }
            }
        }

        /// An entity of any kind.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Entity {
            $( $name($name), )*
            Unknown(Unknown),
        }

        impl Entity {
            pub fn kind(&self) -> Kind {
                match self {
                    $( Entity::$name(_) => Kind::$name, )*
                    Entity::Unknown(_) => Kind::Unknown,
                }
            }

            /// The entity's properties as JSON, links written as `{"$ref": <index>}`
            /// with the arena index as a number (Sentinel's own ids are strings).
            pub(crate) fn to_map(&self) -> Map<String, Value> {
                let value = match self {
                    $( Entity::$name(entity) => serde_json::to_value(entity), )*
                    Entity::Unknown(entity) => serde_json::to_value(&entity.extra),
                };
                match value {
                    Ok(Value::Object(map)) => map,
                    // Structs of strings, bools, Values and maps always serialise to
                    // an object.
                    _ => unreachable!("an entity serialises to a JSON object"),
                }
            }

            /// Reads the properties of a `kind` entity from the form [`Entity::to_map`]
            /// writes (a JSON object). `type_name` is kept by `Unknown` entities only.
            pub(crate) fn from_map(
                kind: Kind,
                properties: &Value,
                type_name: Option<String>,
            ) -> Result<Entity, serde_json::Error> {
                Ok(match kind {
                    $( Kind::$name => Entity::$name($name::deserialize(properties)?), )*
                    Kind::Unknown => Entity::Unknown(Unknown {
                        type_name,
                        extra: BTreeMap::deserialize(properties)?,
                    }),
                })
            }
        }
    };
}

entity_types! {
    /// A user or service account (`"account"`).
    Account("account" | "user") {
        name: String = "Name",
        nt_domain: String = "NTDomain",
        dns_domain: String = "DnsDomain",
        upn_suffix: String = "UPNSuffix",
        upn: String = "Upn",
        sid: String = "Sid",
        aad_tenant_id: String = "AadTenantId",
        aad_user_id: String = "AadUserId",
        puid: String = "PUID",
        object_guid: String = "ObjectGuid",
        is_domain_joined: bool = "IsDomainJoined",
        display_name: String = "DisplayName",
        logon_id: String = "LogonId",
        cloud_app_account_id: String = "CloudAppAccountId",
    } links {
        host = "Host" => Host,
    } lists {
    }

    /// An Azure resource (`"azure-resource"`).
    AzureResource("azure-resource" | "azureresource") {
        resource_id: String = "ResourceId",
        subscription_id: String = "SubscriptionId",
        resource_type: String = "ResourceType",
        resource_name: String = "ResourceName",
    } links {
    } lists {
    }

    /// A cloud application (`"cloud-application"`).
    CloudApplication("cloud-application" | "cloudapplication") {
        app_id: Value = "AppId",
        saas_id: Value = "SaasId",
        name: String = "Name",
        instance_name: String = "InstanceName",
        instance_id: Value = "InstanceId",
        risk: Value = "Risk",
    } links {
    } lists {
    }

    /// A DNS resolution (`"dns"`).
    Dns("dns" | "dnsresolve" | "dnsresolution") {
        domain_name: String = "DomainName",
    } links {
        dns_server_ip = "DnsServerIp" => IpAddress,
        host_ip_address = "HostIpAddress" => IpAddress,
    } lists {
        ip_addresses = "IpAddresses" => IpAddress,
    }

    /// A file (`"file"`).
    File("file") {
        directory: String = "Directory",
        name: String = "Name",
        alternate_data_stream_name: String = "AlternateDataStreamName",
        size_in_bytes: Value = "SizeInBytes",
        md5: String = "Md5",
        sha1: String = "Sha1",
        sha256: String = "Sha256",
        sha256_ac: String = "Sha256Ac",
        windows_security_zone_type: Value = "WindowsSecurityZoneType",
    } links {
        host = "Host" => Host,
        host_url = "HostUrl" => Url,
        referrer_url = "ReferrerUrl" => Url,
    } lists {
        file_hashes = "FileHashes" => FileHash,
    }

    /// A file hash (`"filehash"`).
    FileHash("filehash" | "file-hash") {
        algorithm: Value = "Algorithm",
        value: String = "Value",
    } links {
    } lists {
    }

    /// The geolocation of an IP address (`IpAddress.Location`; `"location"` when typed).
    GeoLocation("location" | "geolocation" | "geo-location") {
        country_code: String = "CountryCode",
        country_name: String = "CountryName",
        country_or_region_name: String = "CountryOrRegionName",
        state: String = "State",
        city: String = "City",
        longitude: Value = "Longitude",
        latitude: Value = "Latitude",
        asn: Value = "Asn",
    } links {
    } lists {
    }

    /// A computer (`"host"`).
    Host("host" | "machine") {
        host_name: String = "HostName",
        dns_domain: String = "DnsDomain",
        nt_domain: String = "NTDomain",
        net_bios_name: String = "NetBiosName",
        fqdn: String = "FQDN",
        azure_id: String = "AzureID",
        oms_agent_id: String = "OMSAgentID",
        mdatp_device_id: String = "MdatpDeviceId",
        aad_device_id: String = "AadDeviceId",
        os_family: Value = "OSFamily",
        os_version: String = "OSVersion",
        is_domain_joined: bool = "IsDomainJoined",
    } links {
        iot_device = "IoTDevice" => IoTDevice,
    } lists {
        ip_interfaces = "IpInterfaces" => IpAddress,
    }

    /// A logon session on a host (`"host-logon-session"`).
    HostLogonSession("host-logon-session" | "hostlogonsession") {
        session_id: String = "SessionId",
        start_time_utc: String = "StartTimeUtc",
        end_time_utc: String = "EndTimeUtc",
    } links {
        account = "Account" => Account,
        host = "Host" => Host,
    } lists {
    }

    /// An IoT device (`"iotdevice"`).
    IoTDevice("iotdevice" | "iot-device") {
        device_id: String = "DeviceId",
        device_name: String = "DeviceName",
        device_type: String = "DeviceType",
        iot_security_agent_id: String = "IoTSecurityAgentId",
        source: String = "Source",
        manufacturer: String = "Manufacturer",
        model: String = "Model",
        operating_system: String = "OperatingSystem",
        mac_address: String = "MacAddress",
        serial_number: String = "SerialNumber",
        site: String = "Site",
        zone: String = "Zone",
        sensor: String = "Sensor",
    } links {
        iot_hub = "IoTHub" => AzureResource,
        source_ref = "SourceRef" => Url,
        ip_address = "IpAddress" => IpAddress,
        device_page_link = "DevicePageLink" => Url,
    } lists {
    }

    /// An IP address (`"ip"`).
    IpAddress("ip" | "ipaddress" | "ip-address") {
        address: String = "Address",
        address_scope: String = "AddressScope",
    } links {
        location = "Location" => GeoLocation,
    } lists {
        threat_intelligence = "ThreatIntelligence" => Threatintelligence,
    }

    /// A mailbox (`"mailbox"`).
    Mailbox("mailbox") {
        mailbox_primary_address: String = "MailboxPrimaryAddress",
        display_name: String = "DisplayName",
        upn: String = "Upn",
        aad_id: String = "AadId",
        external_directory_object_id: String = "ExternalDirectoryObjectId",
        risk_level: Value = "RiskLevel",
    } links {
    } lists {
    }

    /// A cluster of similar mail messages (`"mail-cluster"`).
    MailCluster("mail-cluster" | "mailcluster") {
        query: String = "Query",
        query_time: String = "QueryTime",
        source: String = "Source",
        mail_count: Value = "MailCount",
        is_volume_anomaly: bool = "IsVolumeAnomaly",
        network_message_ids: Vec<String> = "NetworkMessageIds",
        threats: Vec<String> = "Threats",
    } links {
    } lists {
    }

    /// A mail message (`"mailMessage"`; the documentation also spells it `mail-message`).
    MailMessage("mailMessage" | "mail-message") {
        recipient: String = "Recipient",
        sender: String = "Sender",
        sender_ip: String = "SenderIP",
        p1_sender: String = "P1Sender",
        p2_sender: String = "P2Sender",
        received_date: String = "ReceivedDate",
        network_message_id: String = "NetworkMessageId",
        internet_message_id: String = "InternetMessageId",
        subject: String = "Subject",
        urls: Vec<String> = "Urls",
        threats: Vec<String> = "Threats",
        antispam_direction: Value = "AntispamDirection",
        delivery_action: Value = "DeliveryAction",
        delivery_location: Value = "DeliveryLocation",
        campaign_id: String = "CampaignId",
    } links {
    } lists {
        files = "Files" => File,
    }

    /// Malware found by a detection (`"malware"`).
    Malware("malware") {
        name: String = "Name",
        category: String = "Category",
    } links {
        file = "File" => File,
    } lists {
        files = "Files" => File,
        processes = "Processes" => Process,
    }

    /// A network connection between two addresses (`"network-connection"`).
    NetworkConnection("network-connection" | "networkconnection") {
        source_port: Value = "SourcePort",
        destination_port: Value = "DestinationPort",
        protocol: Value = "Protocol",
    } links {
        source_address = "SourceAddress" => IpAddress,
        destination_address = "DestinationAddress" => IpAddress,
    } lists {
    }

    /// A running process (`"process"`).
    Process("process") {
        process_id: String = "ProcessId",
        command_line: String = "CommandLine",
        elevation_token: Value = "ElevationToken",
        creation_time_utc: String = "CreationTimeUtc",
    } links {
        image_file = "ImageFile" => File,
        account = "Account" => Account,
        parent_process = "ParentProcess" => Process,
        host = "Host" => Host,
        logon_session = "LogonSession" => HostLogonSession,
    } lists {
    }

    /// A registry key (`"registry-key"`).
    RegistryKey("registry-key" | "registrykey") {
        hive: Value = "Hive",
        key: String = "Key",
    } links {
    } lists {
    }

    /// A registry value (`"registry-value"`).
    RegistryValue("registry-value" | "registryvalue") {
        name: String = "Name",
        value: String = "Value",
        value_type: Value = "ValueType",
    } links {
        key = "Key" => RegistryKey,
        host = "Host" => Host,
    } lists {
    }

    /// A security group (`"security-group"`).
    SecurityGroup("security-group" | "securitygroup") {
        distinguished_name: String = "DistinguishedName",
        sid: String = "SID",
        object_guid: String = "ObjectGuid",
    } links {
    } lists {
    }

    /// A mail message submitted for analysis (`"SubmissionMail"`).
    SubmissionMail("SubmissionMail" | "submission-mail") {
        submission_id: String = "SubmissionId",
        submission_date: String = "SubmissionDate",
        submitter: String = "Submitter",
        network_message_id: String = "NetworkMessageId",
        timestamp: String = "Timestamp",
        recipient: String = "Recipient",
        sender: String = "Sender",
        sender_ip: String = "SenderIp",
        subject: String = "Subject",
        report_type: String = "ReportType",
    } links {
    } lists {
    }

    /// Threat intelligence attached to an entity (`"threatintelligence"`).
    Threatintelligence("threatintelligence" | "threat-intelligence") {
        provider_name: String = "ProviderName",
        threat_type: String = "ThreatType",
        threat_name: String = "ThreatName",
        confidence: Value = "Confidence",
        report_link: String = "ReportLink",
        threat_description: String = "ThreatDescription",
    } links {
    } lists {
    }

    /// A URL (`"url"`).
    Url("url") {
        url: String = "Url",
        detonation_verdict: String = "DetonationVerdict",
    } links {
    } lists {
    }

    /// A security alert (`"alert"`), with the entities it names.
    Alert("alert" | "alerts" | "securityalert") {
        alert_display_name: String = "AlertDisplayName",
        display_name: String = "DisplayName",
        system_alert_id: String = "SystemAlertId",
        alert_type: String = "AlertType",
        severity: String = "Severity",
        status: String = "Status",
        provider_name: String = "ProviderName",
        vendor_name: String = "VendorName",
        product_name: String = "ProductName",
        compromised_entity: String = "CompromisedEntity",
        description: String = "Description",
        start_time_utc: String = "StartTimeUtc",
        end_time_utc: String = "EndTimeUtc",
        time_generated: String = "TimeGenerated",
    } links {
    } lists {
        entities = "Entities" => Unknown,
    }

    /// An incident (`"incident"`), with the entities it names.
    Incident("incident") {
        incident_id: String = "IncidentID",
        display_name: String = "DisplayName",
        title: String = "Title",
        severity: String = "Severity",
        status: String = "Status",
        classification: String = "Classification",
        owner: Value = "Owner",
        labels: Value = "Labels",
        alerts: Value = "Alerts",
        description: String = "Description",
    } links {
    } lists {
        entities = "Entities" => Unknown,
    }
}

/// An entity whose `Type` this model does not know: all its properties are kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Unknown {
    /// The `Type` as read, if there was one.
    pub type_name: Option<String>,
    pub extra: BTreeMap<String, Value>,
}

impl From<Unknown> for Entity {
    fn from(entity: Unknown) -> Entity {
        Entity::Unknown(entity)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// Never fails: an unrecognised `Type` is [`Kind::Unknown`].
impl FromStr for Kind {
    type Err = std::convert::Infallible;

    fn from_str(tag: &str) -> Result<Kind, Self::Err> {
        Ok(Kind::from_tag(tag))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_aliases_name_kinds_case_insensitively() {
        assert_eq!(Kind::from_tag("ip"), Kind::IpAddress);
        assert_eq!(Kind::from_tag("IPAddress"), Kind::IpAddress);
        assert_eq!(Kind::from_tag("mail-message"), Kind::MailMessage);
        assert_eq!(Kind::from_tag("mailMessage"), Kind::MailMessage);
        assert_eq!(Kind::from_tag("registry-key"), Kind::RegistryKey);
        assert_eq!(Kind::from_tag("location"), Kind::GeoLocation);
        assert_eq!(Kind::from_tag("blob-container"), Kind::Unknown);
        for kind in Kind::KNOWN {
            assert_eq!(Kind::from_tag(kind.tag()), *kind, "{kind:?}");
            assert_eq!(Kind::from_name(kind.name()), Some(*kind), "{kind:?}");
        }
        assert_eq!(Kind::from_name("ipaddress"), Some(Kind::IpAddress));
        assert_eq!(Kind::from_name("ip"), None);
    }

    #[test]
    fn properties_list_plain_and_linking_properties() {
        let process = Kind::Process.properties();
        assert_eq!(process[..2], ["ProcessId", "CommandLine"]);
        assert!(process.contains(&"ParentProcess"));
        assert!(Kind::Dns.properties().contains(&"IpAddresses"));
        for (link, _) in Kind::Process.links() {
            assert!(process.contains(link), "{link}");
        }
        assert!(Kind::Unknown.properties().is_empty());
    }

    #[test]
    fn properties_keep_their_sentinel_names_and_unknown_ones_are_kept() {
        let json = serde_json::json!({
            "ProcessId": "4242",
            "CommandLine": "cmd.exe /c whoami",
            "ElevationToken": "TokenElevationTypeFull",
            "ImageFile": {"$ref": 3},
            "SomethingNew": [1, 2]
        });
        let entity = Entity::from_map(Kind::Process, &json, None).unwrap();
        let Entity::Process(process) = &entity else {
            panic!("read as {entity:?}")
        };
        assert_eq!(process.process_id.as_deref(), Some("4242"));
        assert_eq!(process.image_file, Some(EntityId(3)));
        assert_eq!(process.extra["SomethingNew"], serde_json::json!([1, 2]));
        assert_eq!(Value::Object(entity.to_map()), json);
    }
}
