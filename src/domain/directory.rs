//! The agent directory: who may sign in, with which password, phones,
//! skill queues, group, VDN and role. Loaded once at start-up from TOML.

use std::collections::{BTreeMap, HashMap};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use serde::Deserialize;
use toml::Spanned;

use super::ids::WorkNo;
use super::reasons::{Catalog, NamedCode};

/// The embedded demo directory used when no `--directory` is given.
pub const DEMO_DIRECTORY: &str = include_str!("demo_directory.toml");

/// A configured skill queue.
#[derive(Debug, Clone, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Skill {
    /// Skill queue id.
    pub id: u32,
    /// Display name.
    pub name: String,
    /// Media type (reference §6.7; 5 = voice).
    #[serde(default = "voice", rename(serialize = "mediatype"))]
    pub media_type: u32,
}

fn voice() -> u32 {
    5
}

/// An agent group (team), as the queries and bulletins name it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// The `group` number of its agents.
    pub id: u32,
    /// Display name; `notifybulletin` may name the team by it.
    pub name: String,
    /// Work number of the group's monitor (team leader), if any.
    #[serde(default)]
    pub monitor: Option<u32>,
}

/// What an inspector may act on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Every agent of the inspector's VDN.
    #[serde(default)]
    pub all: bool,
    /// Agent groups in scope.
    #[serde(default)]
    pub groups: Vec<u32>,
    /// Skill queues in scope.
    #[serde(default)]
    pub skills: Vec<u32>,
}

/// An agent's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Inspector,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Inspector => "inspector",
        }
    }
}

/// One directory record.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentRecord {
    pub work_no: u32,
    #[serde(default)]
    pub name: String,
    /// Argon2id PHC string; never logged, never returned.
    pub password_hash: String,
    #[serde(default)]
    pub phones: Vec<String>,
    #[serde(default)]
    pub skills: Vec<u32>,
    #[serde(default)]
    pub group: u32,
    #[serde(default = "one")]
    pub vdn: u32,
    #[serde(default = "agent_role")]
    pub role: Role,
    #[serde(default)]
    pub scope: Option<Scope>,
    /// `loginex` may sign this work number in with an empty password (a
    /// trusted voice-only client). Off by default: `loginex` then needs the
    /// password like any sign-in.
    #[serde(default)]
    pub loginex_without_password: bool,
}

fn one() -> u32 {
    1
}

fn agent_role() -> Role {
    Role::Agent
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectoryFile {
    #[serde(default)]
    skills: Vec<Skill>,
    #[serde(default)]
    groups: Vec<Spanned<Group>>,
    #[serde(default)]
    agents: Vec<Spanned<AgentRecord>>,
    #[serde(default)]
    signout_reasons: Vec<NamedCode>,
    #[serde(default)]
    busy_reasons: Vec<NamedCode>,
    #[serde(default)]
    rest_causes: Vec<NamedCode>,
}

/// Why a directory file was refused, and where in it (line and column,
/// from 1), when that can be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryError {
    pub at: Option<(usize, usize)>,
    pub message: String,
}

impl std::fmt::Display for DirectoryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.at {
            Some((line, column)) => write!(f, "line {line}, column {column}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The loaded directory.
#[derive(Debug)]
pub struct Directory {
    agents: HashMap<WorkNo, AgentRecord>,
    skills: BTreeMap<u32, Skill>,
    groups: BTreeMap<u32, Group>,
    catalog: Catalog,
    inspectors: Vec<WorkNo>,
    /// Verified against when the work number is unknown, so that unknown
    /// and known work numbers take the same time to refuse.
    decoy_hash: String,
}

impl Directory {
    /// Parses and checks a directory file. A problem is located at the
    /// line and column of the record (or value) it is about.
    pub fn parse(text: &str) -> Result<Directory, DirectoryError> {
        let at = |offset: usize, message: String| DirectoryError {
            at: Some(crate::text::line_column(text, offset)),
            message,
        };
        let file: DirectoryFile =
            toml::from_str(text).map_err(|e| at(e.span().map_or(0, |s| s.start), e.message().to_owned()))?;
        if file.agents.is_empty() {
            return Err(DirectoryError { at: None, message: "the directory lists no agents ([[agents]])".into() });
        }
        let skills: BTreeMap<u32, Skill> = file.skills.into_iter().map(|s| (s.id, s)).collect();
        let mut agents = HashMap::new();
        for spanned in file.agents {
            let offset = spanned.span().start;
            let record = spanned.into_inner();
            let refuse = |message: String| at(offset, message);
            let work_no = WorkNo::new(record.work_no)
                .ok_or_else(|| refuse(format!("agent {}: work_no must be 101-999999", record.work_no)))?;
            PasswordHash::new(&record.password_hash)
                .map_err(|e| refuse(format!("agent {work_no}: password_hash is not a PHC string: {e}")))?;
            if let Some(unknown) = record.skills.iter().find(|s| !skills.contains_key(s)) {
                return Err(refuse(format!("agent {work_no}: skill {unknown} is not declared in [[skills]]")));
            }
            if (record.role == Role::Inspector) != record.scope.is_some() {
                return Err(refuse(format!("agent {work_no}: inspectors need a scope, agents must not have one")));
            }
            if agents.insert(work_no, record).is_some() {
                return Err(refuse(format!("agent {work_no} is listed twice")));
            }
        }
        let mut groups = BTreeMap::new();
        for spanned in file.groups {
            let offset = spanned.span().start;
            let group = spanned.into_inner();
            if let Some(monitor) = group.monitor {
                if WorkNo::new(monitor).is_none_or(|m| !agents.contains_key(&m)) {
                    let message = format!("group {}: monitor {monitor} is not an agent of the directory", group.id);
                    return Err(at(offset, message));
                }
            }
            let id = group.id;
            if groups.insert(group.id, group).is_some() {
                return Err(at(offset, format!("group {id} is listed twice")));
            }
        }
        let catalog = Catalog::new(&file.signout_reasons, &file.busy_reasons, &file.rest_causes)
            .map_err(|message| DirectoryError { at: None, message })?;
        let decoy_hash = hash_password("decoy password that matches nothing")
            .map_err(|message| DirectoryError { at: None, message })?;
        let mut inspectors: Vec<WorkNo> =
            agents.iter().filter(|(_, r)| r.role == Role::Inspector).map(|(w, _)| *w).collect();
        inspectors.sort();
        Ok(Directory { agents, skills, groups, catalog, inspectors, decoy_hash })
    }

    pub fn get(&self, work_no: WorkNo) -> Option<&AgentRecord> {
        self.agents.get(&work_no)
    }

    pub fn skill(&self, id: u32) -> Option<&Skill> {
        self.skills.get(&id)
    }

    /// Every configured skill queue, by id.
    pub fn skills(&self) -> impl Iterator<Item = &Skill> {
        self.skills.values()
    }

    /// A declared group; groups that agents name but `[[groups]]` does not
    /// declare have no name and no monitor.
    pub fn group(&self, id: u32) -> Option<&Group> {
        self.groups.get(&id)
    }

    /// The group's name, `""` when it is not declared.
    pub fn group_name(&self, id: u32) -> &str {
        self.group(id).map_or("", |g| g.name.as_str())
    }

    /// Work numbers of every inspector.
    pub fn inspectors(&self) -> impl Iterator<Item = WorkNo> + '_ {
        self.inspectors.iter().copied()
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Every record, by work number.
    pub fn agents(&self) -> impl Iterator<Item = (WorkNo, &AgentRecord)> {
        let mut all: Vec<_> = self.agents.iter().map(|(w, r)| (*w, r)).collect();
        all.sort_by_key(|(w, _)| *w);
        all.into_iter()
    }

    /// True when `inspector`'s scope covers `target` (same VDN, and scope
    /// all, or the target's group, or one of its skill queues).
    pub fn covers(&self, inspector: WorkNo, target: WorkNo) -> bool {
        let (Some(boss), Some(agent)) = (self.agents.get(&inspector), self.agents.get(&target)) else {
            return false;
        };
        let Some(scope) = boss.scope.as_ref().filter(|_| boss.role == Role::Inspector) else {
            return false;
        };
        boss.vdn == agent.vdn
            && (scope.all
                || scope.groups.contains(&agent.group)
                || agent.skills.iter().any(|s| scope.skills.contains(s)))
    }

    pub fn len(&self) -> usize {
        self.agents.len()
    }

    pub fn is_empty(&self) -> bool {
        self.agents.is_empty()
    }

    /// Checks a password. Slow on purpose (Argon2id): call it off the
    /// async executor. Unknown work numbers cost the same as known ones.
    pub fn verify_password(&self, work_no: WorkNo, password: &str) -> bool {
        let (hash, known) = match self.agents.get(&work_no) {
            Some(record) => (record.password_hash.as_str(), true),
            None => (self.decoy_hash.as_str(), false),
        };
        let ok = PasswordHash::new(hash)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false);
        ok && known
    }
}

/// Hashes a password with Argon2id (m=19 MiB, t=2, p=1) and a random salt.
pub fn hash_password(password: &str) -> Result<String, String> {
    let salt = SaltString::generate(&mut rand_core::OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_directory_loads_with_the_documented_agents() {
        let dir = Directory::parse(DEMO_DIRECTORY).unwrap();
        assert_eq!(dir.len(), 42);
        let a = dir.get(WorkNo::new(205).unwrap()).unwrap();
        assert_eq!((a.group, a.skills.clone(), a.phones.clone()), (2, vec![2, 3], vec!["7205".to_string()]));
        assert!(dir.get(WorkNo::new(999).unwrap()).unwrap().scope.as_ref().unwrap().all);
    }

    #[test]
    fn groups_have_names_and_monitors_that_are_agents() {
        let dir = Directory::parse(DEMO_DIRECTORY).unwrap();
        assert_eq!(dir.group_name(1), "Team 1");
        assert_eq!(dir.group(1).unwrap().monitor, Some(900));
        assert_eq!(dir.group_name(7), "");
        let hash = hash_password("x").unwrap();
        let agent = format!("[[agents]]\nwork_no = 101\npassword_hash = \"{hash}\"\n");
        let err = Directory::parse(&format!("{agent}[[groups]]\nid = 1\nname = \"A\"\nmonitor = 555\n")).unwrap_err();
        assert!(err.message.contains("monitor 555"), "{err}");
        assert_eq!(err.at.map(|(line, _)| line), Some(4), "the group's [[groups]] line: {err}");
        let twice = format!("{agent}[[groups]]\nid = 1\nname = \"A\"\n[[groups]]\nid = 1\nname = \"B\"\n");
        assert!(Directory::parse(&twice).unwrap_err().to_string().contains("group 1 is listed twice"));
    }

    #[test]
    fn unknown_keys_are_refused_with_their_name() {
        let err = Directory::parse("[[agents]]\nwork_no = 101\npassword_hash = \"x\"\ncolour = 1\n").unwrap_err();
        assert!(err.message.contains("colour"), "{err}");
        assert_eq!(err.at, Some((4, 1)), "{err}");
    }

    #[test]
    fn problems_are_located_at_their_agent_and_an_empty_directory_is_refused() {
        let hash = hash_password("x").unwrap();
        let text = format!(
            "[[skills]]\nid = 1\nname = \"Sales\"\n\n[[agents]]\nwork_no = 101\npassword_hash = \"{hash}\"\n\n\
             [[agents]]\nwork_no = 102\npassword_hash = \"{hash}\"\nskills = [9]\n"
        );
        let err = Directory::parse(&text).unwrap_err();
        assert_eq!(err.message, "agent 102: skill 9 is not declared in [[skills]]");
        assert_eq!(err.at.map(|(line, _)| line), Some(9), "the agent's [[agents]] line: {err}");
        let err = Directory::parse("[[agents]]\nwork_no = \"one\"\n").unwrap_err();
        assert_eq!(err.at, Some((2, 11)), "{err}");
        assert_eq!(Directory::parse("").unwrap_err().to_string(), "the directory lists no agents ([[agents]])");
    }

    #[test]
    fn passwords_verify_only_for_the_right_agent() {
        let hash = hash_password("s3cret").unwrap();
        let text = format!("[[agents]]\nwork_no = 101\npassword_hash = \"{hash}\"\n");
        let dir = Directory::parse(&text).unwrap();
        let a = WorkNo::new(101).unwrap();
        assert!(dir.verify_password(a, "s3cret"));
        assert!(!dir.verify_password(a, "wrong"));
        assert!(!dir.verify_password(WorkNo::new(102).unwrap(), "s3cret"));
    }
}
