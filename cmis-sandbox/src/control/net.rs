//! Where the sandbox listens: one IP for every server, random ports or fixed ones.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use cmis_core::{Error, Result};

/// How many ports a sandbox takes: the control API's, then one per fake.
pub(crate) const PORTS: u16 = 8;

/// The addresses of a sandbox's servers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Net {
    ip: IpAddr,
    first_port: Option<u16>,
}

impl Net {
    /// `ip` (127.0.0.1 by default), refused when it is not a loopback address unless
    /// `allow_remote`; ports from `first_port` on, or random ones.
    pub(crate) fn new(
        ip: Option<IpAddr>,
        allow_remote: bool,
        first_port: Option<u16>,
    ) -> Result<Net> {
        let ip = ip.unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        if !ip.is_loopback() && !allow_remote {
            return Err(Error::invalid_input(format!(
                "the sandbox listens on loopback addresses only: {ip} would expose its tokens and \
                 control API to the network (allow it explicitly: allow_remote, --allow-remote)"
            )));
        }
        if let Some(first) = first_port
            && (first == 0 || first.checked_add(PORTS - 1).is_none())
        {
            return Err(Error::invalid_input(format!(
                "port {first} cannot start the sandbox's {PORTS} consecutive ports (1 to {})",
                u16::MAX - (PORTS - 1)
            )));
        }
        Ok(Net { ip, first_port })
    }

    /// The address of server `index`: 0 is the control API, then TikTok, Meta, Bluesky, Bluesky
    /// video, Threads, LinkedIn and YouTube.
    pub(crate) fn addr(&self, index: u16) -> SocketAddr {
        let port = self
            .first_port
            .map_or(0, |first| first.saturating_add(index));
        SocketAddr::new(self.ip, port)
    }
}
