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
    StateNotAllowed => "100-009", "agent state cannot be set from the current state";
    InvalidSignInParameter => "100-011", "invalid parameter at sign-in";
    InvalidAgentType => "100-012", "invalid agent type at sign-in";
    PhoneNotAllowed => "100-014", "sign-in phone number not in the configured range";
    InvalidIp => "100-016", "invalid IP at sign-in";
    SkillParameter => "100-019", "invalid skill queue parameter";
    AccountLocked => "110-016", "account locked after repeated wrong passwords; try again later";
    NoQueryRight => "300-001", "no right to query this agent's information";
    NoAgentInfo => "300-002", "no such agent";
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
