//! Notes (`sendnoteletex`) and bulletins (`notifybulletin`) between agents
//! of one VDN, delivered as events.
use super::BulkResult;
use super::Caller;
use super::Gateway;
use crate::clock::now_ms;
use crate::domain::audit::Action;
use crate::domain::audit::Origin;
use crate::domain::events::names;
use crate::domain::events::Content;
use crate::domain::ids::WorkNo;
use crate::domain::session::Session;
use crate::domain::Failure;
use crate::retcode::Retcode;

use crate::clock::rfc3339;
use crate::domain::requests::{BulletinRequest, BulletinTarget, NoteRequest};

impl Gateway {
    /// Queues `AgentOther_Note` for every receiver that is signed in and in
    /// the sender's VDN; each receiver's outcome is reported, 100-006 for
    /// one that is not signed in (or not in the VDN, or unknown: one answer
    /// for all three, so a note reveals no more than "not signed in").
    pub async fn send_note(
        &self,
        sender: &Caller,
        origin: &Origin,
        note: NoteRequest,
    ) -> Result<Vec<BulkResult>, Failure> {
        let audit = self.audited(sender.actor(), sender.work_no, Action::SendNote, Some(origin)).await?;
        audit.record(self.with_live(sender, |_, _| Ok(())).await).await?;
        let content = self.message_content(sender.work_no, note.content, []);
        let mut results = Vec::with_capacity(note.receivers.len());
        for receiver in note.receivers {
            let delivered = self.same_vdn(sender.work_no, receiver)
                && self.deliver(receiver, names::NOTE, &content, |_| true).await?;
            results.push(match delivered {
                true => {
                    BulkResult { work_no: receiver.to_string(), retcode: Retcode::Success, message: "success".into() }
                }
                false => BulkResult {
                    work_no: receiver.to_string(),
                    retcode: Retcode::NotSignedIn,
                    message: "not signed in: the note was not delivered".into(),
                },
            });
        }
        Ok(results)
    }

    /// Queues `AgentOther_Bulletin` for every signed-in member of the team
    /// or skill queue, in the sender's VDN, but the sender; returns how many
    /// got it. A team is named by its `[[groups]]` name or its number, a
    /// skill queue by its name or id; members of a skill queue are the
    /// agents signed in to it now. A name that matches nothing gets 000-006.
    pub async fn notify_bulletin(
        &self,
        sender: &Caller,
        origin: &Origin,
        bulletin: BulletinRequest,
    ) -> Result<usize, Failure> {
        let audit = self.audited(sender.actor(), sender.work_no, Action::NotifyBulletin, Some(origin)).await?;
        let decided = match self.with_live(sender, |_, _| Ok(())).await {
            Ok(()) => self.bulletin_audience(sender, &bulletin),
            Err(refusal) => Err(refusal),
        };
        let Audience { id, members, targettype, target_name } = audit.record(decided).await?;
        let content = self.message_content(
            sender.work_no,
            bulletin.data,
            [("targettype", targettype.into()), ("targetname", target_name)],
        );
        let mut delivered = 0;
        for member in members {
            let signed_in_to_queue = |s: &Session| bulletin.target == BulletinTarget::Team || s.skills.contains(&id);
            if self.deliver(member, names::BULLETIN, &content, signed_in_to_queue).await? {
                delivered += 1;
            }
        }
        Ok(delivered)
    }

    /// Who a bulletin reaches: the team or skill queue it names, in the
    /// sender's VDN, and its members but the sender (000-006 for a name that
    /// matches nothing).
    fn bulletin_audience(&self, sender: &Caller, bulletin: &BulletinRequest) -> Result<Audience, Failure> {
        let vdn = self.directory().get(sender.work_no).map_or(0, |r| r.vdn);
        let number = crate::domain::ids::parse_decimal(&bulletin.name, 9).and_then(|n| u32::try_from(n).ok());
        let in_vdn = |r: &crate::domain::directory::AgentRecord| r.vdn == vdn;
        let (id, targettype) = match bulletin.target {
            BulletinTarget::Team => {
                let named = self.directory().agents().map(|(_, r)| r.group).find(|g| {
                    self.directory().group(*g).is_some_and(|group| group.name == bulletin.name) || Some(*g) == number
                });
                (named, "0")
            }
            BulletinTarget::SkillQueue => {
                let named = self.directory().skills().find(|s| s.name == bulletin.name || Some(s.id) == number);
                (named.map(|s| s.id), "1")
            }
        };
        let members: Vec<WorkNo> = self
            .directory()
            .agents()
            .filter(|(w, r)| {
                *w != sender.work_no
                    && in_vdn(r)
                    && match bulletin.target {
                        BulletinTarget::Team => Some(r.group) == id,
                        BulletinTarget::SkillQueue => id.is_some_and(|s| r.skills.contains(&s)),
                    }
            })
            .map(|(w, _)| w)
            .collect();
        let Some(id) = id.filter(|_| !members.is_empty()) else {
            let what = if targettype == "0" { "team" } else { "skill queue" };
            return Err(Failure::new(
                Retcode::MessageError,
                format!("no {what} named {:?} in your VDN", bulletin.name),
            ));
        };
        let target_name = match bulletin.target {
            BulletinTarget::Team => self.directory().group_name(id).to_owned(),
            BulletinTarget::SkillQueue => self.directory().skill(id).map(|s| s.name.clone()).unwrap_or_default(),
        };
        Ok(Audience { id, members, targettype, target_name })
    }

    fn same_vdn(&self, a: WorkNo, b: WorkNo) -> bool {
        match (self.directory().get(a), self.directory().get(b)) {
            (Some(a), Some(b)) => a.vdn == b.vdn,
            _ => false,
        }
    }

    /// The content Huawei's C# sample reads from a note or bulletin:
    /// `sender`, `sendername`, `receivetime` (epoch ms), `timestring`
    /// (UTC, RFC 3339) and `context` (the text), then `extra`.
    fn message_content<const N: usize>(
        &self,
        sender: WorkNo,
        text: String,
        extra: [(&'static str, String); N],
    ) -> Content {
        let now = now_ms();
        let name = self.directory().get(sender).map(|r| r.name.clone()).unwrap_or_default();
        let fields = [
            ("sender", sender.to_string()),
            ("sendername", name),
            ("receivetime", now.to_string()),
            ("timestring", rfc3339(now)),
            ("context", text),
        ];
        Content::Fields(fields.into_iter().chain(extra).collect())
    }

    /// Queues an event for `to`'s live session if `wanted` accepts it, and
    /// wakes its poll; true when it was queued.
    async fn deliver(
        &self,
        to: WorkNo,
        kind: &'static str,
        content: &Content,
        wanted: impl Fn(&Session) -> bool + Send + Sync,
    ) -> Result<bool, Failure> {
        let now = now_ms();
        let session = self
            .with_slot(to, |slot| {
                let session = slot.live.as_mut().filter(|s| wanted(s))?;
                session.push(kind, content.clone(), now);
                Some(session.id)
            })
            .await?;
        if let Some(id) = session {
            self.0.store.wake(id);
        }
        Ok(session.is_some())
    }
}

/// The receivers of a bulletin.
struct Audience {
    id: u32,
    members: Vec<WorkNo>,
    targettype: &'static str,
    target_name: String,
}
