//! Authentication by Guid (the session a presented Guid belongs to, for
//! what purpose), and Guid rotation in dynamic mode with the owner index.
use super::not_signed_in;
use super::Gateway;
use crate::clock::now_ms;
use crate::domain::directory::Role;
use crate::domain::ids::Guid;
use crate::domain::ids::SessionId;
use crate::domain::ids::WorkNo;
use crate::domain::session::GuidMatch;
use crate::domain::session::GuidPolicy;
use crate::domain::session::Session;
use crate::domain::Failure;
use crate::retcode::Retcode;
use crate::telemetry::GuidRejection;

/// What a Guid is presented for: which sessions it may belong to, and what
/// the Guid of an ended session gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Any interface but the poll and sign-out: live sessions only (100-006 for an ended one).
    Command,
    /// The poll: an ended session's Guid too, for its final events.
    Poll,
    /// Signing out: live sessions only, and 100-008 "already signed out"
    /// for the Guid of a session that has ended.
    SignOut,
}

/// An authenticated caller: the agent and the session its Guid belongs to.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub work_no: WorkNo,
    pub session: SessionId,
    pub role: Role,
    pub guid: GuidMatch,
}

impl Gateway {
    // ----- authentication -------------------------------------------------

    /// Finds the session a Guid belongs to. Ended sessions are accepted only
    /// for the final poll.
    pub async fn authenticate(&self, work_no: WorkNo, guid: &str, purpose: Purpose) -> Result<Caller, Failure> {
        let allow_ended = purpose == Purpose::Poll;
        let found = if guid.is_empty() || guid.len() > Guid::MAX_LEN {
            Err(GuidRejection::Missing)
        } else {
            let role = self.directory().get(work_no).map_or(Role::Agent, |r| r.role);
            let now = now_ms();
            self.with_slot(work_no, |slot| {
                let signed_in = slot.live.is_some();
                match slot.by_guid(guid, now) {
                    Some((s, m)) if s.ended.is_none() || (allow_ended && !s.is_delivered()) => {
                        Ok(Caller { work_no, session: s.id, role, guid: m })
                    }
                    Some(_) => Err(GuidRejection::Ended),
                    None if signed_in => Err(GuidRejection::Wrong),
                    None => Err(GuidRejection::NotSignedIn),
                }
            })
            .await?
        };
        found.map_err(|rejection| {
            self.0.telemetry.guid_rejected(rejection);
            match rejection {
                GuidRejection::Missing => {
                    Failure::new(Retcode::NoPermission, "the Guid header is missing or malformed")
                }
                GuidRejection::Wrong => Failure::new(Retcode::NoPermission, "the Guid is expired or not this agent's"),
                GuidRejection::Ended if purpose == Purpose::SignOut => {
                    Failure::new(Retcode::AlreadySignedOut, "this session has already been signed out")
                }
                GuidRejection::Ended => Failure::new(Retcode::NotSignedIn, "this session has been signed out"),
                GuidRejection::NotSignedIn => not_signed_in(),
            }
        })
    }

    /// The caller of a sign-out whose `{agentid}` may be another agent's:
    /// the agent itself, or an inspector whose Guid this is. An agent's
    /// Guid is never accepted for a different agent id.
    pub async fn authenticate_operator(&self, path_agent: WorkNo, guid: &str) -> Result<Caller, Failure> {
        // An inspector's Guid is tried as the inspector's first: trying it
        // as the path agent's would count a Guid refusal for every
        // legitimate forced sign-out.
        let owner = self.0.store.guid_owner(guid).filter(|owner| {
            *owner != path_agent && self.directory().get(*owner).is_some_and(|r| r.role == Role::Inspector)
        });
        if let Some(inspector) = owner {
            if let Ok(caller) = self.authenticate(inspector, guid, Purpose::Command).await {
                return Ok(caller);
            }
        }
        self.authenticate(path_agent, guid, Purpose::SignOut).await
    }
}

/// A Guid change to apply to the client and the owner index.
#[derive(Debug, Default)]
pub(super) struct GuidChange {
    /// The Guid the client must switch to.
    pub(super) set_guid: Option<Guid>,
    /// A new Guid to index.
    pub(super) issued: Option<Guid>,
    /// A Guid that stopped working.
    pub(super) retired: Option<Guid>,
}

/// Rotates the Guid when due. A client that presents the previous Guid
/// missed a rotation: it is sent the current one again instead of a further
/// rotation, so a lost answer can never cost it the session.
pub(super) fn rotation(session: &mut Session, presented: GuidMatch, policy: &GuidPolicy, now: u64) -> GuidChange {
    let rotated = if presented == GuidMatch::Current { session.guids.rotate_if_due(policy, now) } else { None };
    let current = session.guids.current().clone();
    match rotated {
        Some(r) => GuidChange { set_guid: Some(current.clone()), issued: Some(current), retired: r.retired },
        None if presented == GuidMatch::Previous => GuidChange { set_guid: Some(current), ..GuidChange::default() },
        None => GuidChange::default(),
    }
}

impl Gateway {
    /// Applies a Guid change to the owner index; returns what the client gets.
    pub(super) fn apply_guid_change(&self, work_no: WorkNo, change: GuidChange) -> Option<Guid> {
        if let Some(guid) = &change.issued {
            self.0.store.index_guid(guid.as_str(), work_no);
        }
        if let Some(guid) = &change.retired {
            self.0.store.unindex_guid(guid.as_str());
        }
        change.set_guid
    }
}
