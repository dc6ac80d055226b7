//! The sign-in body (reference §3.2), declared once: the table [`FIELDS`]
//! is both what the parser reads (it reads no field that is not declared)
//! and what the OpenAPI schema `SignInBody` shows. Numbers and booleans are
//! accepted as native JSON or as strings, as Huawei's own examples send
//! them. Unknown fields are ignored and never bound.

use std::net::Ipv4Addr;

use serde_json::{Map, Value};
use utoipa::openapi::schema::{Object, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::RefOr;

use crate::domain::ids::parse_decimal;
use crate::domain::params::is_service_token;
use crate::domain::requests::{SignInKind, SignInRequest};
use crate::domain::state::InitialState;
use crate::domain::Failure;
use crate::retcode::Retcode;

/// One field of the body: its name, its documented JSON type, what it means.
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub doc: &'static str,
}

/// The JSON type a field is documented as (strings of digits or `true` /
/// `false` are accepted for numbers and flags too).
pub enum Kind {
    /// Text of at most this many characters.
    Text(usize),
    Flag,
    /// A whole number in this range.
    Number(u64, u64),
}

macro_rules! fields {
    ($( $konst:ident = $name:literal, $kind:expr, $doc:literal; )*) => {
        $( const $konst: Field = Field { name: $name, kind: $kind, doc: $doc }; )*
        /// Every field of the body, in the document's order.
        pub const FIELDS: &[Field] = &[$( $konst, )*];
    };
}

fields! {
    PASSWORD = "password", Kind::Text(32),
        "Work-number password (at most 32 characters). `loginex` may leave it empty or out where the directory allows it.";
    PHONENUM = "phonenum", Kind::Text(24),
        "Phone number bound to the agent (at most 24; digits, +, * and #); required for agents, except on `loginex`.";
    AUTOANSWER = "autoanswer", Kind::Flag, "Answer calls automatically (default true).";
    AUTOENTERIDLE = "autoenteridle", Kind::Flag, "Go idle after a call (default true); false = wrap-up.";
    RELEASEPHONE = "releasephone", Kind::Flag, "Phone hangs up after each call (default true).";
    AGENTTYPE = "agenttype", Kind::Number(4, 11), "4 = PC + phone (default), 11 = PC + phone video.";
    STATUS = "status", Kind::Number(3, 5), "State after sign-in: 3 busy, 4 idle (default), 5 wrap-up.";
    IP = "ip", Kind::Text(15), "Agent client IPv4 address (default 127.0.0.1).";
    ENTRY_IP = "entryIp", Kind::Text(64), "IP of the client's application gateway.";
    PHONELINKAGE = "phonelinkage", Kind::Flag, "Link softphone and hard phone (default false).";
    CHECK_IN_WEBM = "checkInWebm", Kind::Flag, "Also sign in to the text-chat server (default true).";
    CHECK_IN_MAILM = "checkInMailm", Kind::Flag, "Also sign in to the mail server (default false).";
    VC_PHONE_NUMBER = "vcPhoneNumber", Kind::Text(24), "VC number (at most 24).";
    LISTEN_STATUS = "listenStatus", Kind::Flag, "Notify inspectors when this agent signs in or out (default false).";
    CALL_BACK_URI = "callBackUri", Kind::Text(200),
        "Push-mode callback URL (push mode is not supported: with `serviceToken` it gets 100-011).";
    SERVICE_TOKEN = "serviceToken", Kind::Text(50), "Push-mode token (letters, digits, - and _).";
}

/// Reads the body's fields with their declared types.
struct Fields<'a>(&'a Map<String, Value>);

impl Fields<'_> {
    fn string(&self, field: &Field) -> Result<Option<String>, Failure> {
        let Kind::Text(max) = field.kind else { unreachable!("{} is not declared as text", field.name) };
        let key = field.name;
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
            Some(Value::String(_)) => Err(sign_in_param(format!("{key} is longer than {max} characters"))),
            Some(_) => Err(sign_in_param(format!("{key} must be a string"))),
        }
    }

    fn flag(&self, field: &Field) -> Result<Option<bool>, Failure> {
        debug_assert!(matches!(field.kind, Kind::Flag), "{} is not declared as a flag", field.name);
        match self.0.get(field.name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(sign_in_param(format!("{} must be true or false", field.name))),
        }
    }

    /// A whole number; `Err` for anything else (the caller names the retcode).
    fn number(&self, field: &Field) -> Result<Option<u64>, ()> {
        debug_assert!(matches!(field.kind, Kind::Number(..)), "{} is not declared as a number", field.name);
        match self.0.get(field.name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_u64().map(Some).ok_or(()),
            Some(Value::String(s)) => parse_decimal(s, 9).map(Some).ok_or(()),
            Some(_) => Err(()),
        }
    }
}

fn sign_in_param(detail: String) -> Failure {
    Failure::new(Retcode::SignInParameter, detail)
}

/// Validates a parsed JSON body sent to the `kind` interface.
pub fn sign_in_request(body: &Value, kind: SignInKind) -> Result<SignInRequest, Failure> {
    let map = body.as_object().ok_or_else(|| sign_in_param("the body must be a JSON object".into()))?;
    let f = Fields(map);
    let password = match (f.string(&PASSWORD)?, kind) {
        (Some(password), _) => password,
        (None, SignInKind::LoginEx) => String::new(),
        (None, _) => return Err(sign_in_param("password is required".into())),
    };
    let phone = f.string(&PHONENUM)?.filter(|p| !p.is_empty());
    if let Some(p) = &phone {
        if !p.bytes().all(|b| b.is_ascii_digit() || b == b'+' || b == b'#' || b == b'*') {
            return Err(Failure::new(Retcode::PhoneNotAllowed, "phonenum may hold digits, +, * and # only"));
        }
    }
    let agent_type = match f.number(&AGENTTYPE) {
        Ok(None) => 4,
        Ok(Some(t @ (4 | 11))) => t as u8,
        _ => return Err(Failure::new(Retcode::InvalidAgentType, "agenttype must be 4 or 11")),
    };
    let bad_status = || Failure::new(Retcode::InvalidSignInParameter, "status must be 3, 4 or 5");
    let status = match f.number(&STATUS) {
        Ok(None) => InitialState::Idle,
        Ok(Some(s)) => InitialState::from_status(s).ok_or_else(bad_status)?,
        Err(()) => return Err(bad_status()),
    };
    let ip = f.string(&IP)?.filter(|s| !s.is_empty()).unwrap_or_else(|| "127.0.0.1".into());
    if ip.parse::<Ipv4Addr>().is_err() {
        return Err(Failure::new(Retcode::InvalidIp, "ip must be an IPv4 address"));
    }
    f.string(&ENTRY_IP)?;
    f.string(&VC_PHONE_NUMBER)?;
    f.flag(&PHONELINKAGE)?;
    check_push_mode(&f)?;
    Ok(SignInRequest {
        kind,
        password,
        phone,
        auto_answer: f.flag(&AUTOANSWER)?.unwrap_or(true),
        auto_enter_idle: f.flag(&AUTOENTERIDLE)?.unwrap_or(true),
        release_phone: f.flag(&RELEASEPHONE)?,
        agent_type,
        status,
        ip,
        check_in_webm: f.flag(&CHECK_IN_WEBM)?.unwrap_or(true),
        check_in_mailm: f.flag(&CHECK_IN_MAILM)?.unwrap_or(false),
        listen_status: f.flag(&LISTEN_STATUS)?.unwrap_or(false),
    })
}

/// Push mode (both `callBackUri` and `serviceToken`) is not offered:
/// refusing it is better than signing in an agent that would never
/// receive its events.
fn check_push_mode(f: &Fields<'_>) -> Result<(), Failure> {
    let uri = f.string(&CALL_BACK_URI)?.filter(|s| !s.is_empty());
    let token = f.string(&SERVICE_TOKEN)?.filter(|s| !s.is_empty());
    if token.as_deref().is_some_and(|t| !is_service_token(t)) {
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

/// The sign-in body (reference §3.2) in the API document, made from
/// [`FIELDS`]. Numbers and booleans may be sent as JSON strings too, e.g.
/// `"status": "4"`.
pub struct SignInBody;

impl utoipa::PartialSchema for SignInBody {
    fn schema() -> RefOr<Schema> {
        let mut object = ObjectBuilder::new()
            .description(Some(
                "The sign-in body (reference §3.2). Numbers and booleans may be sent as JSON strings too, e.g. \
                 `\"status\": \"4\"`.",
            ))
            .examples([serde_json::json!({"password": "Agent@123", "phonenum": "7101", "status": "4"})]);
        for field in FIELDS {
            // Every field but the password may be null, which reads as absent.
            let of = |kind: Type| match field.name {
                "password" => SchemaType::Type(kind),
                _ => SchemaType::from_iter([kind, Type::Null]),
            };
            let property = match field.kind {
                Kind::Text(max) => ObjectBuilder::new().schema_type(of(Type::String)).max_length(Some(max)),
                Kind::Flag => ObjectBuilder::new().schema_type(of(Type::Boolean)),
                Kind::Number(min, max) => ObjectBuilder::new()
                    .schema_type(of(Type::Integer))
                    .minimum(Some(min as f64))
                    .maximum(Some(max as f64)),
            };
            object = object.property(field.name, property.description(Some(field.doc)));
        }
        let object: Object = object.required("password").build();
        RefOr::T(Schema::Object(object))
    }
}

impl utoipa::ToSchema for SignInBody {}

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
            let req = sign_in_request(&body, SignInKind::Login).unwrap();
            assert_eq!((req.status, req.auto_answer, req.agent_type), (InitialState::Busy, false, 11));
        }
    }

    #[test]
    fn loginex_may_leave_the_password_out_and_signs_in_to_voice_only() {
        let body = json!({"phonenum": "7101", "checkInWebm": true});
        let ex = sign_in_request(&body, SignInKind::LoginEx).unwrap();
        assert_eq!((ex.password.as_str(), ex.media_type().as_str()), ("", "TFF"));
        let login = sign_in_request(&body, SignInKind::Login).unwrap_err();
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
            assert_eq!(sign_in_request(&body, SignInKind::Login).unwrap_err().code, code, "{body}");
        }
    }

    #[test]
    fn the_documented_schema_is_the_declared_fields_with_their_limits() {
        let schema = serde_json::to_value(<SignInBody as utoipa::PartialSchema>::schema()).unwrap();
        let properties = schema["properties"].as_object().unwrap();
        let mut names: Vec<&str> = properties.keys().map(String::as_str).collect();
        let mut declared: Vec<&str> = FIELDS.iter().map(|f| f.name).collect();
        names.sort();
        declared.sort();
        assert_eq!(names, declared);
        assert_eq!(properties["password"]["maxLength"], 32);
        assert_eq!(
            (properties["status"]["minimum"].as_f64(), properties["status"]["maximum"].as_f64()),
            (Some(3.0), Some(5.0))
        );
        assert_eq!(schema["required"], json!(["password"]));
    }
}
