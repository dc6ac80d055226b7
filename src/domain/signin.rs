//! The sign-in body (reference §3.2), validated field by field. Numbers and
//! booleans are accepted as native JSON or as strings, as Huawei's own
//! examples send them. Unknown fields are ignored and never bound.

use std::net::Ipv4Addr;

use serde_json::{Map, Value};

use super::state::InitialState;
use super::Failure;
use crate::retcode::Retcode;

/// Which sign-in interface a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInKind {
    /// `PUT onlineagent/{agentid}`: an existing session gets 100-002.
    Login,
    /// `forcelogin`: an existing session is displaced (reason 264).
    ForceLogin,
    /// `loginex`: signs in to CCS (voice) only; `password` may be empty or
    /// absent (allowed only where the directory says so) and `phonenum` is
    /// optional for every role. An existing session gets 100-002.
    LoginEx,
}

/// A validated sign-in request.
#[derive(Debug, Clone)]
pub struct SignInRequest {
    pub kind: SignInKind,
    pub password: String,
    pub phone: Option<String>,
    pub auto_answer: bool,
    pub auto_enter_idle: bool,
    pub release_phone: Option<bool>,
    pub agent_type: u8,
    pub status: InitialState,
    pub ip: String,
    pub check_in_webm: bool,
    pub check_in_mailm: bool,
    pub listen_status: bool,
}

/// Reads one field of the body with its type rules.
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn string(&self, key: &str, max: usize) -> Result<Option<String>, Failure> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
            Some(Value::String(_)) => Err(sign_in_param(format!("{key} is longer than {max} characters"))),
            Some(_) => Err(sign_in_param(format!("{key} must be a string"))),
        }
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, Failure> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(sign_in_param(format!("{key} must be true or false"))),
        }
    }

    fn integer(&self, key: &str) -> Result<Option<u64>, Option<()>> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_u64().map(Some).ok_or(Some(())),
            Some(Value::String(s)) => super::ids::parse_decimal(s, 9).map(Some).ok_or(Some(())),
            Some(_) => Err(Some(())),
        }
    }
}

fn sign_in_param(detail: String) -> Failure {
    Failure::new(Retcode::SignInParameter, detail)
}

impl SignInRequest {
    /// Validates a parsed JSON body sent to the `kind` interface.
    pub fn from_json(body: &Value, kind: SignInKind) -> Result<SignInRequest, Failure> {
        let map = body.as_object().ok_or_else(|| sign_in_param("the body must be a JSON object".into()))?;
        let f = Fields(map);
        let password = match (f.string("password", 32)?, kind) {
            (Some(password), _) => password,
            (None, SignInKind::LoginEx) => String::new(),
            (None, _) => return Err(sign_in_param("password is required".into())),
        };
        let phone = f.string("phonenum", 24)?.filter(|p| !p.is_empty());
        if let Some(p) = &phone {
            if !p.bytes().all(|b| b.is_ascii_digit() || b == b'+' || b == b'#' || b == b'*') {
                return Err(Failure::new(Retcode::PhoneNotAllowed, "phonenum may hold digits, +, * and # only"));
            }
        }
        let agent_type = match f.integer("agenttype") {
            Ok(None) => 4,
            Ok(Some(t @ (4 | 11))) => t as u8,
            _ => return Err(Failure::new(Retcode::InvalidAgentType, "agenttype must be 4 or 11")),
        };
        let status = match f.integer("status") {
            Ok(None) => InitialState::Idle,
            Ok(Some(s)) => InitialState::from_status(s)
                .ok_or_else(|| Failure::new(Retcode::InvalidSignInParameter, "status must be 3, 4 or 5"))?,
            Err(_) => return Err(Failure::new(Retcode::InvalidSignInParameter, "status must be 3, 4 or 5")),
        };
        let ip = f.string("ip", 15)?.filter(|s| !s.is_empty()).unwrap_or_else(|| "127.0.0.1".into());
        if ip.parse::<Ipv4Addr>().is_err() {
            return Err(Failure::new(Retcode::InvalidIp, "ip must be an IPv4 address"));
        }
        f.string("entryIp", 64)?;
        f.string("vcPhoneNumber", 24)?;
        f.boolean("phonelinkage")?;
        Self::check_push_mode(&f)?;
        Ok(SignInRequest {
            kind,
            password,
            phone,
            auto_answer: f.boolean("autoanswer")?.unwrap_or(true),
            auto_enter_idle: f.boolean("autoenteridle")?.unwrap_or(true),
            release_phone: f.boolean("releasephone")?,
            agent_type,
            status,
            ip,
            check_in_webm: f.boolean("checkInWebm")?.unwrap_or(true),
            check_in_mailm: f.boolean("checkInMailm")?.unwrap_or(false),
            listen_status: f.boolean("listenStatus")?.unwrap_or(false),
        })
    }

    /// Push mode (both `callBackUri` and `serviceToken`) is not offered:
    /// refusing it is better than signing in an agent that would never
    /// receive its events.
    fn check_push_mode(f: &Fields<'_>) -> Result<(), Failure> {
        let uri = f.string("callBackUri", 200)?.filter(|s| !s.is_empty());
        let token = f.string("serviceToken", 50)?.filter(|s| !s.is_empty());
        if token.as_deref().is_some_and(|t| !super::params::is_service_token(t)) {
            return Err(sign_in_param("serviceToken may hold letters, digits, - and _ only".into()));
        }
        if uri.is_some() && token.is_some() {
            return Err(Failure::new(
                Retcode::InvalidSignInParameter,
                "push mode (callBackUri with serviceToken) is not supported; poll agentevent instead",
            ));
        }
        Ok(())
    }

    /// `mediatype`: one T/F per server: CTI, WebM, MailM. `loginex` signs
    /// in to CCS (the CTI server) only.
    pub fn media_type(&self) -> String {
        let flag = |b: bool| if b { 'T' } else { 'F' };
        let media = self.kind != SignInKind::LoginEx;
        [flag(true), flag(media && self.check_in_webm), flag(media && self.check_in_mailm)].iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_and_native_values_are_both_accepted() {
        let native = json!({"password": "p", "phonenum": "7101", "status": 3, "autoanswer": false, "agenttype": 11});
        let strings =
            json!({"password": "p", "phonenum": "7101", "status": "3", "autoanswer": "false", "agenttype": "11"});
        for body in [native, strings] {
            let req = SignInRequest::from_json(&body, SignInKind::Login).unwrap();
            assert_eq!((req.status, req.auto_answer, req.agent_type), (InitialState::Busy, false, 11));
        }
    }

    #[test]
    fn loginex_may_leave_the_password_out_and_signs_in_to_voice_only() {
        let body = json!({"phonenum": "7101", "checkInWebm": true});
        let ex = SignInRequest::from_json(&body, SignInKind::LoginEx).unwrap();
        assert_eq!((ex.password.as_str(), ex.media_type().as_str()), ("", "TFF"));
        let login = SignInRequest::from_json(&body, SignInKind::Login).unwrap_err();
        assert_eq!(login.code, Retcode::SignInParameter);
    }

    #[test]
    fn each_bad_field_gets_its_documented_code() {
        let cases = [
            (json!({}), Retcode::SignInParameter),
            (json!({"password": "x".repeat(33)}), Retcode::SignInParameter),
            (json!({"password": "p", "status": 6}), Retcode::InvalidSignInParameter),
            (json!({"password": "p", "status": "busy"}), Retcode::InvalidSignInParameter),
            (json!({"password": "p", "agenttype": 5}), Retcode::InvalidAgentType),
            (json!({"password": "p", "ip": "::1"}), Retcode::InvalidIp),
            (json!({"password": "p", "autoanswer": "yes"}), Retcode::SignInParameter),
            (
                json!({"password": "p", "callBackUri": "https://x", "serviceToken": "t"}),
                Retcode::InvalidSignInParameter,
            ),
            (json!([1, 2]), Retcode::SignInParameter),
        ];
        for (body, code) in cases {
            assert_eq!(SignInRequest::from_json(&body, SignInKind::Login).unwrap_err().code, code, "{body}");
        }
    }
}
