//! Identifiers: work numbers, Guids and session ids.

use std::fmt;

use subtle::ConstantTimeEq;

/// An agent's work number, 101–999999 (reference §1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct WorkNo(u32);

impl WorkNo {
    pub const MIN: u32 = 101;
    pub const MAX: u32 = 999_999;

    /// Parses a path segment: decimal digits only, within range.
    pub fn parse(text: &str) -> Option<WorkNo> {
        let value = parse_decimal(text, 6)?;
        WorkNo::new(value as u32)
    }

    pub fn new(value: u32) -> Option<WorkNo> {
        (Self::MIN..=Self::MAX).contains(&value).then_some(WorkNo(value))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for WorkNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Parses plain decimal digits (no sign, no spaces, no leading `+`), at most
/// `max_digits` long. Leading zeros are accepted, as Java's parseInt does.
pub fn parse_decimal(text: &str, max_digits: usize) -> Option<u64> {
    if text.is_empty() || text.len() > max_digits || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A session token: `<uuid>.AgentGateway<node>`, 122 random bits from the
/// operating system's CSPRNG (UUID v4).
#[derive(Clone, PartialEq, Eq)]
pub struct Guid(String);

impl Guid {
    /// Longest value we look at; anything longer cannot be ours.
    pub const MAX_LEN: usize = 64;

    pub fn generate(node: u16) -> Guid {
        Guid(format!("{}.AgentGateway{node}", uuid::Uuid::new_v4()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Compares in constant time, so response timing reveals nothing about
    /// how much of a guessed Guid was right.
    pub fn matches(&self, presented: &str) -> bool {
        self.0.len() == presented.len() && bool::from(self.0.as_bytes().ct_eq(presented.as_bytes()))
    }

    /// The `Set-GUID` header value.
    pub fn set_guid_header(&self) -> String {
        format!("JSESSIONID={}", self.0)
    }
}

/// Guids never appear in logs or debug output in full.
impl fmt::Debug for Guid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Guid({}…)", &self.0[..4.min(self.0.len())])
    }
}

/// Process-unique number of a sign-in session (never reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_numbers_outside_101_to_999999_are_rejected() {
        for bad in ["", "100", "1000000", "-101", "+101", "10 1", "1e3", "abc", "101.0"] {
            assert!(WorkNo::parse(bad).is_none(), "{bad:?} should be rejected");
        }
        assert_eq!(WorkNo::parse("101").map(WorkNo::get), Some(101));
        assert_eq!(WorkNo::parse("999999").map(WorkNo::get), Some(999_999));
    }

    #[test]
    fn guids_are_unique_and_compare_exactly() {
        let a = Guid::generate(0);
        let b = Guid::generate(0);
        assert_ne!(a, b);
        assert!(a.matches(a.as_str()));
        assert!(!a.matches(b.as_str()));
        assert!(!a.matches(&a.as_str()[1..]));
        assert!(a.as_str().ends_with(".AgentGateway0"));
        assert!(!format!("{a:?}").contains(&a.as_str()[5..]));
    }
}
