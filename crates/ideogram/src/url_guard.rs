//! Which addresses an input image URL may reach, checked on resolving and on redirects.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Which addresses input image URLs (to edit, describe, reference) may reach; downloads any.
///
/// ```
/// use ideogram::InputUrlPolicy;
///
/// let policy = InputUrlPolicy::public_only().allow_host("127.0.0.1");
/// assert!(policy.permits("example.com", "93.184.215.14".parse().unwrap()));
/// assert!(!policy.permits("metadata", "169.254.169.254".parse().unwrap()));
/// assert!(policy.permits("127.0.0.1", "127.0.0.1".parse().unwrap()));
/// assert!(InputUrlPolicy::any().permits("localhost", "::1".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputUrlPolicy {
    public_only: bool,
    allowed_hosts: Vec<String>,
}

impl InputUrlPolicy {
    /// Any address (the default).
    pub fn any() -> Self {
        Self::default()
    }

    /// Public addresses only: not loopback, private, link-local (cloud metadata), shared, ...
    pub fn public_only() -> Self {
        Self {
            public_only: true,
            allowed_hosts: Vec::new(),
        }
    }

    /// Lets URLs on `host` (a name or an address, as written) reach whatever it resolves to.
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        let host = host.into();
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.allowed_hosts.push(host.to_ascii_lowercase());
        self
    }

    /// Whether a URL on `host` may reach `ip`.
    pub fn permits(&self, host: &str, ip: IpAddr) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let allowed = |name: &String| name.eq_ignore_ascii_case(host);
        !self.public_only || is_public(ip) || self.allowed_hosts.iter().any(allowed)
    }

    /// Whether the policy checks anything at all.
    pub(crate) fn guards(&self) -> bool {
        self.public_only
    }

    /// Refuses `url` whose host is an address kept out (names: by [`Resolver`]).
    pub(crate) fn check_url(&self, url: &reqwest::Url) -> Result<(), String> {
        let host = url.host_str().unwrap_or_default();
        match host.trim_start_matches('[').trim_end_matches(']').parse() {
            Ok(ip) if !self.permits(host, ip) => Err(refusal(host)),
            _ => Ok(()),
        }
    }
}

/// What every refusal says, for finding it among an error's causes.
pub(crate) const REFUSED: &str = "a loopback, private, link-local or metadata address";

/// Why a host is refused.
pub(crate) fn refusal(host: &str) -> String {
    format!("{host} is {REFUSED}, which this client does not fetch for input images")
}

/// Whether `ip` is on the public internet.
fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(ip) => {
            let [a, b, c, _] = ip.octets();
            !(ip.is_loopback()
                || ip.is_private()
                || ip.is_link_local()
                || ip.is_unspecified()
                || ip.is_broadcast()
                || ip.is_multicast()
                || ip.is_documentation()
                || a == 0
                // Shared address space (carrier NAT), and 192.0.0.0/24.
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                // Benchmarking and reserved.
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(ip) => {
            let [first, second, ..] = ip.segments();
            !(ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                // Unique local (fc00::/7, where some clouds' metadata lives), link-local.
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                // IPv4-compatible and NAT64 forms of any address.
                || (first == 0 && ip.segments()[1..6].iter().all(|s| *s == 0))
                || (first == 0x64 && second == 0xff9b))
        }
    }
}

/// Resolves names to the addresses the policy permits; a name left with none is an error.
#[derive(Debug)]
pub(crate) struct Resolver(pub(crate) Arc<InputUrlPolicy>);

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let host = name.as_str();
            let found = tokio::net::lookup_host((host, 0)).await?;
            let kept: Vec<SocketAddr> = found.filter(|a| policy.permits(host, a.ip())).collect();
            if kept.is_empty() {
                return Err(refusal(host).into());
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_refused_unless_their_host_is_allowed() {
        let policy = InputUrlPolicy::public_only();
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            let ip: IpAddr = private.parse().unwrap();
            assert!(!policy.permits("h", ip), "{private}");
            assert!(policy.clone().allow_host("h").permits("h", ip), "{private}");
        }
        for public in ["93.184.215.14", "2606:2800:220:1::248"] {
            assert!(policy.permits("h", public.parse().unwrap()), "{public}");
        }
        let url = reqwest::Url::parse("http://[::1]:8080/a.png").unwrap();
        assert!(policy.check_url(&url).is_err());
        assert!(policy.clone().allow_host("[::1]").check_url(&url).is_ok());
        let named = reqwest::Url::parse("http://localhost/a.png").unwrap();
        assert!(
            policy.check_url(&named).is_ok(),
            "names are checked when resolved"
        );
    }
}
