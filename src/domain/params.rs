//! Command parameters with their documented ranges (reference §2.1, §6.4).
//! Each parser accepts exactly the documented values and nothing else.

use super::ids::parse_decimal;

/// A sign-out reason. Clients may send 1–255; 256–264 are system reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignOutReason(u16);

impl SignOutReason {
    /// Agent disconnected from the platform.
    pub const DISCONNECTED: Self = Self(256);
    /// Forced out by an inspector.
    pub const BY_INSPECTOR: Self = Self(257);
    /// Normal sign-out.
    pub const NORMAL: Self = Self(258);
    /// Agent handshake (poll) timeout.
    pub const HEARTBEAT_TIMEOUT: Self = Self(263);
    /// Forced sign-in of the same work number on a new client.
    pub const DISPLACED: Self = Self(264);

    /// A client-supplied reason: an integer 1–255.
    pub fn parse_client(text: &str) -> Option<Self> {
        let value = parse_decimal(text, 3)?;
        (1..=255).contains(&value).then_some(Self(value as u16))
    }

    /// A client-supplied reason given as a number: 1–255.
    pub fn from_code(code: u16) -> Option<Self> {
        (1..=255).contains(&code).then_some(Self(code))
    }

    pub fn code(self) -> u16 {
        self.0
    }
}

/// A busy reason sent with `saybusy`: 0 (none) or 200–250.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusyReason(u16);

impl BusyReason {
    pub const NONE: Self = Self(0);
    /// Forced busy by an inspector (reference §6.4).
    pub const BY_INSPECTOR: Self = Self(3);

    /// Empty means no reason, as documented.
    pub fn parse_client(text: &str) -> Option<Self> {
        if text.is_empty() {
            return Some(Self::NONE);
        }
        let value = parse_decimal(text, 3)?;
        (value == 0 || (200..=250).contains(&value)).then_some(Self(value as u16))
    }

    pub fn code(self) -> u16 {
        self.0
    }
}

/// Rest duration in seconds, 1–86399.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestSeconds(u32);

impl RestSeconds {
    pub fn parse(text: &str) -> Option<Self> {
        let value = parse_decimal(text, 5)?;
        (1..=86_399).contains(&value).then_some(Self(value as u32))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// Rest cause, 0–255 (0 = none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestCause(u8);

impl RestCause {
    pub fn parse(text: &str) -> Option<Self> {
        let value = parse_decimal(text, 3)?;
        u8::try_from(value).ok().map(Self)
    }

    pub fn code(self) -> u8 {
        self.0
    }
}

/// A business-defined custom state (`setcustomstate`), 0–65534.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomState(u16);

impl CustomState {
    pub fn parse(text: &str) -> Option<Self> {
        let value = parse_decimal(text, 5)?;
        (value <= 65_534).then_some(Self(value as u16))
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

/// A push-mode `service_token` (sign-in `serviceToken`, heartbeat header
/// `service_token`): at most 50 characters, no special characters
/// (letters, digits, `-` and `_`).
pub fn is_service_token(text: &str) -> bool {
    text.len() <= 50 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A flag that is neither `true` nor `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotAFlag;

/// A `prolong` query flag. Absent is `None`; only `true`/`false` are valid.
pub fn parse_flag(text: Option<&str>) -> Result<Option<bool>, NotAFlag> {
    match text {
        None => Ok(None),
        Some(t) if t.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(t) if t.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(NotAFlag),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn documented_bad_reasons_are_rejected() {
        for bad in ["0", "256", "-1", "abc", "1.5", "65536", "", " 1", "9e9", "١"] {
            assert!(SignOutReason::parse_client(bad).is_none(), "{bad:?}");
        }
        assert_eq!(SignOutReason::parse_client("001").map(|r| r.code()), Some(1));
    }

    #[test]
    fn service_tokens_are_short_plain_words() {
        for good in ["", "abc", "A-b_9", &"x".repeat(50)] {
            assert!(is_service_token(good), "{good:?}");
        }
        for bad in [&"x".repeat(51) as &str, "a b", "a;b", "tök", "a=b", "a\tb"] {
            assert!(!is_service_token(bad), "{bad:?}");
        }
    }

    #[test]
    fn busy_reasons_are_zero_empty_or_200_to_250() {
        for good in ["", "0", "200", "250"] {
            assert!(BusyReason::parse_client(good).is_some(), "{good:?}");
        }
        for bad in ["1", "3", "199", "251", "x", "-200"] {
            assert!(BusyReason::parse_client(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn custom_states_are_0_to_65534() {
        assert_eq!(CustomState::parse("0").map(CustomState::get), Some(0));
        assert_eq!(CustomState::parse("65534").map(CustomState::get), Some(65_534));
        for bad in ["65535", "-1", "", "1.0", "x", "100000"] {
            assert!(CustomState::parse(bad).is_none(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn sign_out_reason_accepted_iff_in_1_to_255(n in any::<u32>()) {
            let parsed = SignOutReason::parse_client(&n.to_string());
            prop_assert_eq!(parsed.is_some(), (1..=255).contains(&n));
        }

        #[test]
        fn rest_time_accepted_iff_in_1_to_86399(n in any::<u64>()) {
            prop_assert_eq!(RestSeconds::parse(&n.to_string()).is_some(), (1..=86_399).contains(&n));
        }
    }
}
