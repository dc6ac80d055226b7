//! The reason-code catalog: names for sign-out reasons (1–255), busy
//! reasons (200–250) and rest causes (0–255) from the directory file, plus
//! the fixed system reasons of reference §6.4.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a code is a reason for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Sign-out reasons a client may send (1–255).
    Signout,
    /// Busy reasons (200–250, and the system busy reasons 1–7).
    Busy,
    /// Rest causes (0–255).
    Rest,
    /// System sign-out reasons (256–264).
    System,
}

impl Category {
    /// Sign-out codes above 255 are the system's, not a client's.
    pub fn of(self, code: u16) -> Category {
        if self == Category::Signout && code > 255 {
            Category::System
        } else {
            self
        }
    }

    /// The wire name: `signout`, `busy`, `rest` or `system`.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Signout => "signout",
            Category::Busy => "busy",
            Category::Rest => "rest",
            Category::System => "system",
        }
    }
}

/// One catalog entry.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReasonCode {
    /// The numeric code.
    pub code: u16,
    /// Its category.
    pub category: Category,
    /// Its configured (or fixed) name.
    pub name: String,
}

/// A configured name, as written in the directory file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedCode {
    pub code: u16,
    pub name: String,
}

/// The fixed system sign-out reasons.
const SYSTEM: &[(u16, &str)] = &[
    (256, "agent disconnected from the platform"),
    (257, "forced out by an inspector"),
    (258, "normal sign-out"),
    (259, "signed out before signing in again"),
    (260, "media server to CCS handshake timeout"),
    (261, "CCS to UIS handshake timeout"),
    (262, "media server to CCS handshake broken"),
    (263, "agent heartbeat (poll) timeout"),
    (264, "forced sign-in of the same work number on a new client"),
];

/// Busy reasons the platform itself sets (reference §6.4).
const SYSTEM_BUSY: &[(u16, &str)] = &[(0, "no reason"), (3, "forced busy by an inspector")];

/// The catalog.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    names: BTreeMap<(Category, u16), String>,
}

impl Catalog {
    /// Builds the catalog, checking each code against its category's range.
    pub fn new(signout: &[NamedCode], busy: &[NamedCode], rest: &[NamedCode]) -> Result<Catalog, String> {
        let mut names = BTreeMap::new();
        let sections =
            [(Category::Signout, signout, 1..=255), (Category::Busy, busy, 200..=250), (Category::Rest, rest, 0..=255)];
        for (category, entries, range) in sections {
            for entry in entries {
                if !range.contains(&entry.code) {
                    return Err(format!("{category:?} reason {} is outside {range:?}", entry.code).to_lowercase());
                }
                if names.insert((category, entry.code), entry.name.clone()).is_some() {
                    return Err(format!("{category:?} reason {} is named twice", entry.code).to_lowercase());
                }
            }
        }
        for (code, name) in SYSTEM {
            names.insert((Category::System, *code), (*name).to_owned());
        }
        for (code, name) in SYSTEM_BUSY {
            names.entry((Category::Busy, *code)).or_insert_with(|| (*name).to_owned());
        }
        Ok(Catalog { names })
    }

    /// The name of a code; sign-out codes above 255 are system reasons.
    pub fn name(&self, category: Category, code: u16) -> Option<&str> {
        self.names.get(&(category.of(code), code)).map(String::as_str)
    }

    /// The name, or `""` when the code has none.
    pub fn name_or_empty(&self, category: Category, code: u16) -> String {
        self.name(category, code).unwrap_or_default().to_owned()
    }

    /// True when the code is configured (strict mode accepts only these;
    /// "no reason" codes are always accepted).
    pub fn knows(&self, category: Category, code: u16) -> bool {
        code == 0 || self.name(category, code).is_some()
    }

    /// Every entry, by category and code.
    pub fn list(&self) -> Vec<ReasonCode> {
        self.names
            .iter()
            .map(|((category, code), name)| ReasonCode { code: *code, category: *category, name: name.clone() })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(code: u16, name: &str) -> NamedCode {
        NamedCode { code, name: name.into() }
    }

    #[test]
    fn names_are_found_by_category_and_system_reasons_are_fixed() {
        let catalog =
            Catalog::new(&[named(57, "end of shift")], &[named(201, "training")], &[named(7, "lunch")]).unwrap();
        assert_eq!(catalog.name(Category::Signout, 57), Some("end of shift"));
        assert_eq!(catalog.name(Category::Signout, 263), Some("agent heartbeat (poll) timeout"));
        assert_eq!(catalog.name(Category::Busy, 57), None);
        assert!(catalog.knows(Category::Rest, 7) && !catalog.knows(Category::Rest, 8));
    }

    #[test]
    fn codes_outside_their_range_are_refused() {
        assert!(Catalog::new(&[named(256, "x")], &[], &[]).is_err());
        assert!(Catalog::new(&[], &[named(199, "x")], &[]).is_err());
        assert!(Catalog::new(&[named(5, "a"), named(5, "b")], &[], &[]).is_err());
    }
}
