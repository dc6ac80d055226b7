//! What a client asks the domain for, validated: a sign-in, a note, a
//! bulletin. The HTTP layer reads them from their JSON bodies
//! (`api::bodies`); the domain only sees these values.

use super::ids::WorkNo;
use super::state::InitialState;

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

/// A validated sign-in request (reference §3.2).
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

impl SignInRequest {
    /// `mediatype`: one T/F per server: CTI, WebM, MailM. `loginex` signs
    /// in to CCS (the CTI server) only.
    pub fn media_type(&self) -> String {
        let flag = |b: bool| if b { 'T' } else { 'F' };
        let media = self.kind != SignInKind::LoginEx;
        [flag(true), flag(media && self.check_in_webm), flag(media && self.check_in_mailm)].iter().collect()
    }
}

/// Most receivers of one note (reference §2.1 row 24).
pub const MAX_NOTE_RECEIVERS: usize = 100;
/// Longest note, in UTF-8 bytes.
pub const MAX_NOTE_BYTES: usize = 1023;
/// Longest bulletin target name, in characters.
pub const MAX_TARGET_NAME: usize = 100;
/// Longest bulletin, in characters.
pub const MAX_BULLETIN: usize = 900;

/// A validated `sendnoteletex` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteRequest {
    /// Receiving work numbers, each once, in the order given.
    pub receivers: Vec<WorkNo>,
    /// The note's text, 0–1023 bytes of UTF-8.
    pub content: String,
}

/// Whom a bulletin is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulletinTarget {
    /// `targettype` 0: an agent group (team).
    Team,
    /// `targettype` 1: a skill queue.
    SkillQueue,
}

/// A validated `notifybulletin` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulletinRequest {
    pub target: BulletinTarget,
    /// The team's or skill queue's name (or its number), 1–100 characters.
    pub name: String,
    /// The bulletin, 0–900 characters.
    pub data: String,
}
