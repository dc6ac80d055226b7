//! The one retcode table. Every answer the gateway gives, framework failures
//! included, carries one of these codes (reference §7).

use serde::Serialize;

macro_rules! retcodes {
    ($( $variant:ident => $code:literal, $text:literal; )*) => {
        /// A Huawei CC-Gateway result code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Retcode { $( $variant, )* }

        impl Retcode {
            /// Every code, in table order (used by docs and tests).
            pub const ALL: &'static [Retcode] = &[$( Retcode::$variant, )*];

            /// The wire form, e.g. `"100-006"`.
            pub fn code(self) -> &'static str {
                match self { $( Retcode::$variant => $code, )* }
            }

            /// The default human-readable message.
            pub fn text(self) -> &'static str {
                match self { $( Retcode::$variant => $text, )* }
            }

            /// The variant's name, e.g. `NotSignedIn`.
            pub fn name(self) -> &'static str {
                match self { $( Retcode::$variant => stringify!($variant), )* }
            }
        }
    };
}

retcodes! {
    Success => "0", "success";
    WrongMethod => "000-001", "wrong HTTP method for this interface";
    BadParameter => "000-002", "invalid URL parameter or address";
    NoPermission => "000-003", "no permission: the Guid is missing, expired or not this agent's";
    SelfInspection => "000-005", "the agent to be inspected is the inspector itself";
    MessageError => "000-006", "message parameter error";
    RepeatedCall => "000-007", "the previous call for this agent has not finished";
    SignInParameter => "100-001", "sign-in parameter empty or invalid";
    AlreadySignedIn => "100-002", "agent already signed in";
    WrongPassword => "100-004", "wrong work number or password";
    SignOutParameter => "100-005", "invalid sign-out parameter";
    NotSignedIn => "100-006", "agent not signed in";
    Internal => "100-007", "internal error";
    AlreadySignedOut => "100-008", "agent already signed out";
    StateNotAllowed => "100-009", "agent state cannot be set from the current state";
    InvalidSignInParameter => "100-011", "invalid parameter at sign-in";
    InvalidAgentType => "100-012", "invalid agent type at sign-in";
    PhoneNotAllowed => "100-014", "sign-in phone number not in the configured range";
    InvalidIp => "100-016", "invalid IP at sign-in";
    SkillParameter => "100-019", "invalid skill queue parameter";
    SignInInProgress => "100-021", "a sign-in of this agent is already in progress; do not repeat it";
    AccountLocked => "110-016", "account locked after repeated wrong passwords; try again later";
    NoQueryRight => "300-001", "no right to query this agent's information";
    NoAgentInfo => "300-002", "no such agent";
    NoSuchGroup => "300-004", "no such agent group";
    NoRight => "900-002", "no right: the agent is outside the inspector's scope";
    MonitoredAgentNotFound => "900-004", "monitored agent not found";
}

impl Retcode {
    /// True for `"0"`.
    pub fn is_success(self) -> bool {
        self == Retcode::Success
    }
}

impl Serialize for Retcode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl std::fmt::Display for Retcode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Documented as a string enum of every code, with the meanings in the
/// description and constant names in `x-enum-varnames` (generators use them,
/// e.g. `Retcode.NOT_SIGNED_IN` rather than `Retcode.VALUE_100_006`).
impl utoipa::PartialSchema for Retcode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::extensions::ExtensionsBuilder;
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let mut description = String::from("`\"0\"` is success; any other code says why not (reference §7):\n");
        for code in Retcode::ALL {
            description.push_str(&format!("\n- `{}` {}: {}", code.code(), code.name(), code.text()));
        }
        let names: Vec<String> = Retcode::ALL.iter().map(|code| screaming_snake(code.name())).collect();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Retcode::ALL.iter().map(|code| code.code())))
            .description(Some(description))
            .extensions(Some(ExtensionsBuilder::new().add("x-enum-varnames", names).build()))
            .into()
    }
}

impl utoipa::ToSchema for Retcode {}

/// `NotSignedIn` → `NOT_SIGNED_IN`.
fn screaming_snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.char_indices() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_lists_every_code_with_a_constant_name() {
        let schema = serde_json::to_value(<Retcode as utoipa::PartialSchema>::schema()).unwrap();
        assert_eq!(schema["enum"].as_array().unwrap().len(), Retcode::ALL.len());
        assert_eq!(schema["enum"][0], "0");
        assert_eq!(schema["x-enum-varnames"][0], "SUCCESS");
        let at = Retcode::ALL.iter().position(|c| *c == Retcode::NotSignedIn).unwrap();
        assert_eq!(schema["x-enum-varnames"][at], "NOT_SIGNED_IN");
        assert!(schema["description"].as_str().unwrap().contains("`100-006` NotSignedIn: agent not signed in"));
    }
}
