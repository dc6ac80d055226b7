//! Where load may go: a literal loopback IP and a port, nothing else.
//!
//! Every connection the harness opens is made from a [`Target`], and the
//! only way to get one is [`Target::parse`], which accepts exactly
//! `http(s)://127.0.0.1:PORT` or `http(s)://[::1]:PORT` (an optional
//! trailing `/`). Host names (even `localhost`), other loopback addresses,
//! short or hexadecimal IPv4 forms, IPv4-mapped IPv6, user info, paths,
//! and any pattern syntax (`{a,b}`, `[1-2]`, `*`) are refused. The address
//! is taken from the literal text, so no resolver is ever asked.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Plain HTTP (only for the Prism comparison) or HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

/// A validated loopback target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    scheme: Scheme,
    addr: SocketAddr,
}

impl Target {
    /// Validates `url`; see the module documentation for what passes.
    pub fn parse(url: &str) -> Result<Target, String> {
        let refuse = |why: &str| {
            Err(format!("refusing target {url:?}: {why}; only http(s)://127.0.0.1:PORT or http(s)://[::1]:PORT"))
        };
        let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else {
            return refuse("scheme must be http or https");
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        let (ip, port) = if let Some(port) = authority.strip_prefix("127.0.0.1:") {
            (IpAddr::V4(Ipv4Addr::LOCALHOST), port)
        } else if let Some(port) = authority.strip_prefix("[::1]:") {
            (IpAddr::V6(Ipv6Addr::LOCALHOST), port)
        } else {
            return refuse("host must be the literal 127.0.0.1 or [::1]");
        };
        if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
            return refuse("port must be 1-65535 in decimal");
        }
        let port: u16 = match port.parse() {
            Ok(p) if p > 0 => p,
            _ => return refuse("port must be 1-65535 in decimal"),
        };
        // Belt and braces: whatever the text, the address must be loopback.
        if !ip.is_loopback() {
            return refuse("not loopback");
        }
        Ok(Target { scheme, addr: SocketAddr::new(ip, port) })
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `Host` header: the IP literal.
    pub fn host(&self) -> String {
        match self.addr.ip() {
            IpAddr::V4(ip) => ip.to_string(),
            IpAddr::V6(ip) => format!("[{ip}]"),
        }
    }

    pub fn url(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        format!("{scheme}://{}:{}", self.host(), self.addr.port())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_literal_loopback_ips_pass() {
        for good in ["https://127.0.0.1:8043", "http://127.0.0.1:1/", "https://[::1]:65535"] {
            let t = Target::parse(good).unwrap_or_else(|e| panic!("{e}"));
            assert!(t.addr().ip().is_loopback());
        }
        assert_eq!(Target::parse("https://127.0.0.1:8043/").unwrap().url(), "https://127.0.0.1:8043");
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "https://localhost:8043",
            "https://LOCALHOST:8043",
            "https://127.0.0.2:8043",
            "https://127.1:8043",
            "https://0x7f.0.0.1:8043",
            "https://2130706433:8043",
            "https://127.0.0.1.nip.io:8043",
            "https://10.0.0.1:8043",
            "https://192.168.1.1:8043",
            "https://example.com:8043",
            "https://[::ffff:127.0.0.1]:8043",
            "https://[0:0:0:0:0:0:0:1]:8043",
            "https://user@127.0.0.1:8043",
            "https://127.0.0.1:8043@example.com",
            "https://127.0.0.1:8043/path",
            "https://127.0.0.1:8043/../x",
            "https://127.0.0.1",
            "https://127.0.0.1:",
            "https://127.0.0.1:0",
            "https://127.0.0.1:65536",
            "https://127.0.0.1:+80",
            "https://127.0.0.{1,2}:8043",
            "https://127.0.0.[1-2]:8043",
            "https://127.0.0.*:8043",
            "https://{127.0.0.1,10.0.0.1}:8043",
            "ftp://127.0.0.1:8043",
            " https://127.0.0.1:8043",
            "HTTPS://127.0.0.1:8043",
            "127.0.0.1:8043",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
