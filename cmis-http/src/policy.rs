//! Which hosts a URL given by a user may reach: [`UrlPolicy`], the address classes it refuses
//! ([`AddressClass`]), and the resolver that enforces it at connection time ([`GuardedResolver`]).
//!
//! A URL from a post (media to download) is attacker-controlled input: without a guard it can
//! make cmis read the cloud's metadata service, an admin port on localhost or a service on the
//! private network (server-side request forgery). The guard checks the scheme and every address
//! the host resolves to, and the HTTP client connects only to the addresses it checked, so a DNS
//! answer that changes between the check and the connection (DNS rebinding) changes nothing.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use cmis_core::url::{Host, Url};
use cmis_core::{Error, Result};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// A kind of address that is not the public internet. [`UrlPolicy`] refuses them all unless the
/// caller allows a class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum AddressClass {
    /// `127.0.0.0/8`, `::1`: this machine.
    Loopback,
    /// `10/8`, `172.16/12`, `192.168/16` (RFC 1918), `fc00::/7` (unique local), `fec0::/10`.
    Private,
    /// `169.254/16`, `fe80::/10`.
    LinkLocal,
    /// `100.64/10`, carrier-grade NAT (RFC 6598).
    SharedAddressSpace,
    /// `0.0.0.0/8` and `::` (which reach this machine on Linux).
    Unspecified,
    /// `224/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// Documentation, benchmarking, IETF-reserved and future-use ranges (`192.0.0/24`,
    /// `192.0.2/24`, `198.18/15`, `198.51.100/24`, `203.0.113/24`, `240/4`, `2001:db8::/32`,
    /// `100::/64`, Teredo `2001::/32`, NAT64 local-use `64:ff9b:1::/48`): never a media host.
    Reserved,
    /// A cloud metadata service: `169.254.169.254` (AWS, GCP, Azure, OCI), `fd00:ec2::254`
    /// (AWS IPv6), `169.254.170.2` (ECS), `169.254.170.23` (EKS), `100.100.100.200`
    /// (Alibaba), and the name `metadata.google.internal`. Allowing
    /// [`LinkLocal`](Self::LinkLocal) or [`Private`](Self::Private) does not allow these.
    CloudMetadata,
}

impl AddressClass {
    /// Every class, in order.
    pub const ALL: [AddressClass; 9] = [
        Self::Loopback,
        Self::Private,
        Self::LinkLocal,
        Self::SharedAddressSpace,
        Self::Unspecified,
        Self::Multicast,
        Self::Broadcast,
        Self::Reserved,
        Self::CloudMetadata,
    ];

    /// The class of `ip`, or `None` for a public address. IPv4 addresses embedded in IPv6
    /// (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::/96`,
    /// 6to4 `2002::/16`) are judged by the IPv4 address they carry.
    pub fn of(ip: IpAddr) -> Option<Self> {
        match ip {
            IpAddr::V4(v4) => Self::of_v4(v4),
            IpAddr::V6(v6) => Self::of_v6(v6),
        }
    }

    fn of_v4(ip: Ipv4Addr) -> Option<Self> {
        let [a, b, c, d] = ip.octets();
        let class = match (a, b, c, d) {
            (169, 254, 169, 254)
            | (169, 254, 170, 2)
            | (169, 254, 170, 23)
            | (100, 100, 100, 200) => Self::CloudMetadata,
            (0, ..) => Self::Unspecified,
            (127, ..) => Self::Loopback,
            (10, ..) | (192, 168, ..) => Self::Private,
            (172, b, ..) if (16..32).contains(&b) => Self::Private,
            (169, 254, ..) => Self::LinkLocal,
            (100, b, ..) if (64..128).contains(&b) => Self::SharedAddressSpace,
            (255, 255, 255, 255) => Self::Broadcast,
            (224..=239, ..) => Self::Multicast,
            (240..=255, ..)
            | (192, 0, 0 | 2, _)
            | (198, 18 | 19, ..)
            | (198, 51, 100, _)
            | (203, 0, 113, _) => Self::Reserved,
            _ => return None,
        };
        Some(class)
    }

    fn of_v6(ip: Ipv6Addr) -> Option<Self> {
        const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);
        if ip == METADATA_V6 {
            return Some(Self::CloudMetadata);
        }
        if ip.is_unspecified() {
            return Some(Self::Unspecified);
        }
        if ip.is_loopback() {
            return Some(Self::Loopback);
        }
        if let Some(v4) = embedded_v4(ip) {
            return Self::of_v4(v4);
        }
        let s = ip.segments();
        let class = match s[0] {
            0xfc00..=0xfdff => Self::Private,
            0xfe80..=0xfebf => Self::LinkLocal,
            0xfec0..=0xfeff => Self::Private,
            0xff00..=0xffff => Self::Multicast,
            0x2001 if s[1] == 0x0db8 || s[1] == 0 => Self::Reserved,
            // NAT64's local-use prefix (64:ff9b:1::/48) translates to whatever the local
            // network routes: never a public media host.
            0x0064 if s[1] == 0xff9b && s[2] == 1 => Self::Reserved,
            0x0100 if s[1..4] == [0, 0, 0] => Self::Reserved,
            // The rest of ::/8 (other than the forms handled above) is not routable.
            0x0000..=0x00ff => Self::Reserved,
            _ => return None,
        };
        Some(class)
    }

    /// The class's name as used in error messages: `loopback`, `private`, `link-local`, ….
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Loopback => "loopback",
            Self::Private => "private",
            Self::LinkLocal => "link-local",
            Self::SharedAddressSpace => "shared (carrier-grade NAT)",
            Self::Unspecified => "unspecified",
            Self::Multicast => "multicast",
            Self::Broadcast => "broadcast",
            Self::Reserved => "reserved",
            Self::CloudMetadata => "cloud metadata",
        }
    }
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The IPv4 address an IPv6 address carries, for the forms that route to it.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    match s {
        // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated but still parsed).
        [0, 0, 0, 0, 0, 0xffff, hi, lo] | [0, 0, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        // NAT64: the well-known prefix and the local-use one.
        [0x0064, 0xff9b, 0, 0, 0, 0, hi, lo] => Some(low(hi, lo)),
        // 6to4 carries the IPv4 address in bits 16..48.
        [0x2002, hi, lo, ..] => Some(low(hi, lo)),
        _ => None,
    }
}

/// Host names that reach a metadata service whatever they resolve to.
const METADATA_NAMES: [&str; 2] = ["metadata.google.internal", "metadata.goog"];

/// Why a URL or address was refused: the class, and the address or name. Attached as the
/// [`source`](std::error::Error::source) of the [`InvalidInput`](cmis_core::ErrorKind::InvalidInput)
/// error a refusal returns, for callers that want the class as a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedAddress {
    class: AddressClass,
    host: String,
    ip: Option<IpAddr>,
}

impl RefusedAddress {
    /// The class that was refused.
    pub fn class(&self) -> AddressClass {
        self.class
    }

    /// The refused address, when an address (not a name) was refused.
    pub fn ip(&self) -> Option<IpAddr> {
        self.ip
    }

    /// The host as written in the URL.
    pub fn host(&self) -> &str {
        &self.host
    }

    fn into_error(self) -> Error {
        Error::invalid_input(self.to_string()).with_source(self)
    }
}

impl fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip {
            Some(ip) if ip.to_string() == self.host.trim_matches(['[', ']']) => write!(
                f,
                "the URL's host {} is a {} address, which cmis does not fetch from",
                self.host, self.class
            ),
            Some(ip) => write!(
                f,
                "the URL's host {} resolves to {ip}, a {} address, which cmis does not fetch from",
                self.host, self.class
            ),
            None => write!(
                f,
                "the URL's host {} is a {} name, which cmis does not fetch from",
                self.host, self.class
            ),
        }?;
        write!(
            f,
            " (allow it with UrlPolicy::allow(AddressClass::{:?}) if it is meant)",
            self.class
        )
    }
}

impl std::error::Error for RefusedAddress {}

/// Which URLs a fetch may follow: `https` only (plus `http` when allowed), no user name or
/// password in the URL, and no host whose name or any resolved address falls in a refused
/// [`AddressClass`]. The default refuses every class; tests and local sandboxes opt in, for
/// example with `allow(AddressClass::Loopback)`.
///
/// ```
/// # mod cmis { pub use cmis_core::*; pub mod media { pub use cmis_http::{AddressClass, MediaFetcher, MediaFetcherBuilder, UrlPolicy}; } }
/// use cmis::media::{AddressClass, UrlPolicy};
/// let policy = UrlPolicy::default();
/// let url = "https://169.254.169.254/latest/meta-data/".parse().unwrap();
/// let err = policy.check_url(&url).unwrap_err();
/// assert_eq!(err.kind(), cmis::ErrorKind::InvalidInput);
/// assert!(err.message().contains("cloud metadata"));
///
/// // A local test server, explicitly allowed.
/// let local = UrlPolicy::default().allow_http(true).allow(AddressClass::Loopback);
/// local.check_url(&"http://127.0.0.1:8080/a.jpg".parse().unwrap())?;
/// # Ok::<(), cmis::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    allowed: Vec<AddressClass>,
    allow_http: bool,
}

impl UrlPolicy {
    /// The default policy: public `https` hosts only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allows addresses of `class` (a local sandbox: [`AddressClass::Loopback`]; an intranet
    /// media server: [`AddressClass::Private`]).
    #[must_use]
    pub fn allow(mut self, class: AddressClass) -> Self {
        if !self.allowed.contains(&class) {
            self.allowed.push(class);
        }
        self
    }

    /// Allows plain `http` URLs (off by default).
    #[must_use]
    pub fn allow_http(mut self, allow: bool) -> Self {
        self.allow_http = allow;
        self
    }

    /// Whether addresses of `class` are allowed.
    pub fn allows(&self, class: AddressClass) -> bool {
        self.allowed.contains(&class)
    }

    /// Checks one address; `host` names it in the error.
    pub fn check_ip(&self, host: &str, ip: IpAddr) -> Result<()> {
        self.refusal(host, ip)
            .map_or(Ok(()), |r| Err(r.into_error()))
    }

    fn refusal(&self, host: &str, ip: IpAddr) -> Option<RefusedAddress> {
        let class = AddressClass::of(ip)?;
        (!self.allows(class)).then(|| RefusedAddress {
            class,
            host: host.to_owned(),
            ip: Some(ip),
        })
    }

    fn refused_name(&self, host: &str) -> Option<RefusedAddress> {
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        (METADATA_NAMES.contains(&name.as_str()) && !self.allows(AddressClass::CloudMetadata)).then(
            || RefusedAddress {
                class: AddressClass::CloudMetadata,
                host: host.to_owned(),
                ip: None,
            },
        )
    }

    /// Checks what can be checked without resolving: the scheme, credentials in the URL, an IP
    /// host's class (a client connects to an IP host without asking the resolver) and the
    /// metadata names. Hosts given by name are checked again, address by address, by the
    /// [`GuardedResolver`] of a client from [`UrlPolicy::client_builder`].
    ///
    /// The error never contains the URL's path or query (they may hold signed tokens).
    pub fn check_url(&self, url: &Url) -> Result<()> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => {
                return Err(Error::invalid_input(
                    "media URLs must be https (plain http is refused unless allowed)",
                ));
            }
            other => {
                return Err(Error::invalid_input(format!(
                    "media URLs must be https, not {other}:"
                )));
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Error::invalid_input(
                "media URLs must not carry a user name or password",
            ));
        }
        let refused = match url.host() {
            None => return Err(Error::invalid_input("the media URL has no host")),
            Some(Host::Ipv4(ip)) => self.refusal(&ip.to_string(), IpAddr::V4(ip)),
            Some(Host::Ipv6(ip)) => self.refusal(&format!("[{ip}]"), IpAddr::V6(ip)),
            Some(Host::Domain(name)) => self.refused_name(name),
        };
        refused.map_or(Ok(()), |r| Err(r.into_error()))
    }

    /// A [`client_builder`](crate::client_builder) (rustls, no redirects) whose every
    /// connection to a named host goes through a [`GuardedResolver`] for this policy, with
    /// proxies disabled (a proxy would resolve the host itself, out of the guard's sight).
    /// Resolution uses the system resolver.
    ///
    /// A client connects to an IP host without asking any resolver, so call
    /// [`check_url`](Self::check_url) on every URL before sending it, including each redirect
    /// target; [`MediaFetcher`](crate::MediaFetcher) does both.
    #[doc(hidden)]
    pub fn client_builder(&self) -> Result<reqwest::ClientBuilder> {
        Ok(crate::client_builder()?
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver::new(self.clone()))))
    }
}

/// A [`reqwest`] resolver that resolves through another (the system's by default) and answers
/// only when every address is allowed by its [`UrlPolicy`]; otherwise the connection fails with
/// a [`RefusedAddress`] and nothing is connected to. Because the client connects to exactly the
/// addresses this resolver returned, there is no second lookup for a rebinding DNS server to
/// answer differently.
#[derive(Clone)]
pub struct GuardedResolver {
    policy: UrlPolicy,
    inner: Option<Arc<dyn Resolve>>,
}

impl fmt::Debug for GuardedResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GuardedResolver")
            .field("policy", &self.policy)
            .field("inner", &self.inner.as_ref().map(|_| "custom"))
            .finish()
    }
}

impl GuardedResolver {
    /// Resolves with the system resolver and checks every address against `policy`.
    pub fn new(policy: UrlPolicy) -> Self {
        Self {
            policy,
            inner: None,
        }
    }

    /// Resolves with `inner` instead (for example a DNS-over-HTTPS resolver, or a fixed table
    /// in tests), still checking every address it returns.
    #[must_use]
    pub fn with_inner(mut self, inner: Arc<dyn Resolve>) -> Self {
        self.inner = Some(inner);
        self
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        if let Some(refused) = policy.refused_name(&host) {
            return Box::pin(std::future::ready(Err(refused.into())));
        }
        let lookup = self.inner.as_ref().map(|inner| inner.resolve(name));
        Box::pin(checked(policy, host, lookup))
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Resolves `host` (with `lookup`, or the system resolver) and returns its addresses only when
/// every one of them is allowed.
async fn checked(
    policy: UrlPolicy,
    host: String,
    lookup: Option<Resolving>,
) -> std::result::Result<Addrs, BoxError> {
    let addrs: Vec<SocketAddr> = match lookup {
        Some(lookup) => lookup.await?.collect(),
        None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
    };
    if addrs.is_empty() {
        return Err(format!("{host} resolved to no address").into());
    }
    // Every address, not just the first: a client may fall back to any of them.
    if let Some(refused) = addrs.iter().find_map(|a| policy.refusal(&host, a.ip())) {
        return Err(refused.into());
    }
    Ok(Box::new(addrs.into_iter()))
}

/// The [`RefusedAddress`] somewhere in `err`'s chain of sources, if the guard refused it.
pub(crate) fn refused_in<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a RefusedAddress> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(r) = e.downcast_ref::<RefusedAddress>() {
            return Some(r);
        }
        next = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> Option<AddressClass> {
        AddressClass::of(s.parse().unwrap())
    }

    #[test]
    fn every_class_is_recognised() {
        use AddressClass::*;
        let cases = [
            ("127.0.0.1", Some(Loopback)),
            ("127.255.255.254", Some(Loopback)),
            ("::1", Some(Loopback)),
            ("10.0.0.1", Some(Private)),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("192.168.1.1", Some(Private)),
            ("fc00::1", Some(Private)),
            ("fd12:3456::1", Some(Private)),
            ("169.254.1.1", Some(LinkLocal)),
            ("fe80::1", Some(LinkLocal)),
            ("100.64.0.1", Some(SharedAddressSpace)),
            ("100.127.255.255", Some(SharedAddressSpace)),
            ("0.0.0.0", Some(Unspecified)),
            ("0.1.2.3", Some(Unspecified)),
            ("::", Some(Unspecified)),
            ("224.0.0.1", Some(Multicast)),
            ("239.255.255.250", Some(Multicast)),
            ("ff02::1", Some(Multicast)),
            ("255.255.255.255", Some(Broadcast)),
            ("240.0.0.1", Some(Reserved)),
            ("192.0.2.1", Some(Reserved)),
            ("198.18.0.1", Some(Reserved)),
            ("2001:db8::1", Some(Reserved)),
            ("169.254.169.254", Some(CloudMetadata)),
            ("169.254.170.2", Some(CloudMetadata)),
            ("100.100.100.200", Some(CloudMetadata)),
            ("fd00:ec2::254", Some(CloudMetadata)),
            // IPv4 inside IPv6 is judged by the IPv4 address.
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("::ffff:10.1.2.3", Some(Private)),
            ("::ffff:169.254.169.254", Some(CloudMetadata)),
            ("::127.0.0.1", Some(Loopback)),
            ("64:ff9b::a9fe:a9fe", Some(CloudMetadata)),
            ("64:ff9b:1::c0a8:1", Some(Reserved)),
            ("2002:7f00:1::1", Some(Loopback)),
            ("2002:0a00:0001::1", Some(Private)),
            // Public addresses.
            ("8.8.8.8", None),
            ("157.240.1.35", None),
            ("172.32.0.1", None),
            ("100.128.0.1", None),
            ("169.255.0.1", None),
            ("::ffff:8.8.8.8", None),
            ("2a03:2880:f12f:83:face:b00c:0:25de", None),
            ("2002:0808:0808::1", None),
        ];
        for (ip, expected) in cases {
            assert_eq!(class(ip), expected, "{ip}");
        }
    }

    #[test]
    fn allowing_link_local_or_private_does_not_allow_metadata() {
        let policy = UrlPolicy::new()
            .allow(AddressClass::LinkLocal)
            .allow(AddressClass::Private);
        assert!(policy.check_ip("x", "169.254.1.1".parse().unwrap()).is_ok());
        assert!(
            policy
                .check_ip("x", "169.254.169.254".parse().unwrap())
                .is_err()
        );
        assert!(
            policy
                .check_ip("x", "fd00:ec2::254".parse().unwrap())
                .is_err()
        );
    }

    #[test]
    fn urls_are_checked_before_any_lookup() {
        let p = UrlPolicy::new();
        let refused = |u: &str| {
            let err = p.check_url(&u.parse().unwrap()).unwrap_err();
            assert_eq!(err.kind(), cmis_core::ErrorKind::InvalidInput, "{u}");
            let shown = format!("{err} {err:?}");
            assert!(!shown.contains("sig=SECRET"), "{shown}");
            err.message().to_owned()
        };
        assert!(refused("http://example.com/a.jpg").contains("https"));
        assert!(refused("ftp://example.com/a.jpg").contains("https"));
        assert!(refused("https://user:pw@example.com/a.jpg").contains("user name"));
        assert!(refused("https://127.0.0.1/a.jpg?sig=SECRET").contains("loopback"));
        assert!(refused("https://[::1]/a.jpg?sig=SECRET").contains("loopback"));
        assert!(refused("https://[::ffff:7f00:1]/a.jpg").contains("loopback"));
        // The URL parser normalises other spellings of an IPv4 address.
        assert!(refused("https://2130706433/a.jpg").contains("loopback"));
        assert!(refused("https://0x7f.1/a.jpg").contains("loopback"));
        assert!(refused("https://0/a.jpg").contains("unspecified"));
        assert!(refused("https://metadata.google.internal/x").contains("cloud metadata"));
        assert!(refused("https://METADATA.google.internal./x").contains("cloud metadata"));
        assert!(refused("https://10.0.0.1/x?sig=SECRET").contains("private"));
        p.check_url(&"https://cdn.example.com/a.jpg?sig=SECRET".parse().unwrap())
            .unwrap();
        p.check_url(&"https://8.8.8.8/a.jpg".parse().unwrap())
            .unwrap();
    }

    #[test]
    fn the_refusal_is_a_typed_source() {
        let err = UrlPolicy::new()
            .check_url(&"https://192.168.0.10/a.jpg".parse().unwrap())
            .unwrap_err();
        let refused = refused_in(&err).unwrap();
        assert_eq!(refused.class(), AddressClass::Private);
        assert_eq!(refused.ip(), Some("192.168.0.10".parse().unwrap()));
    }
}
