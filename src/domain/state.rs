//! The agent state machine of reference §6, as a pure function from
//! (state, command) to (next state, events). It knows nothing of sessions,
//! queues or HTTP.

use super::events::{names, Content};
use super::params::{BusyReason, RestCause, RestSeconds};

/// What an agent is doing while signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentState {
    Idle,
    Busy { reason: BusyReason },
    WrapUp,
    Rest { seconds: RestSeconds, cause: RestCause },
}

impl AgentState {
    /// The CC-Gateway `agentState` code (reference §6.1).
    pub fn code(self) -> u8 {
        match self {
            AgentState::Busy { .. } => 3,
            AgentState::Idle => 4,
            AgentState::WrapUp => 5,
            AgentState::Rest { .. } => 8,
        }
    }
}

/// The state chosen at sign-in (`status` 3, 4 or 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialState {
    Busy,
    Idle,
    WrapUp,
}

impl InitialState {
    pub fn from_status(status: u64) -> Option<Self> {
        match status {
            3 => Some(InitialState::Busy),
            4 => Some(InitialState::Idle),
            5 => Some(InitialState::WrapUp),
            _ => None,
        }
    }

    /// The state and the events of reference §3.5, in order.
    pub fn enter(self) -> (AgentState, Vec<(&'static str, Content)>) {
        let mut events = vec![(names::IN_SERVICE, Content::Null), (names::READY, Content::Null)];
        let state = match self {
            InitialState::Idle => AgentState::Idle,
            InitialState::Busy => {
                events.push((names::SET_NOT_READY_SUCCESS, busy_content(BusyReason::NONE)));
                AgentState::Busy { reason: BusyReason::NONE }
            }
            InitialState::WrapUp => {
                events.push((names::WORK, Content::Null));
                AgentState::WrapUp
            }
        };
        (state, events)
    }
}

/// A state-changing command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    SayFree,
    SayBusy { reason: BusyReason, prolong: Option<bool> },
    CancelBusy,
    Rest { seconds: RestSeconds, cause: RestCause, prolong: Option<bool> },
    CancelRest,
    Work,
    CancelWork,
}

/// A state an inspector forces on an agent (reference §2.4), from any state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forced {
    Busy,
    Idle,
    Rest { seconds: RestSeconds, cause: RestCause },
}

/// Why a command was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not allowed from the current state (100-009).
    NotAllowed,
    /// Repeating busy or rest needs `prolong=true` (000-002).
    ProlongRequired,
}

/// The outcome of an accepted command.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub next: AgentState,
    pub events: Vec<(&'static str, Content)>,
    /// A rest period (re)starts: arm its reminder.
    pub rest_started: bool,
}

impl Transition {
    fn to(next: AgentState, events: Vec<(&'static str, Content)>) -> Self {
        Transition { next, events, rest_started: matches!(next, AgentState::Rest { .. }) }
    }
}

fn busy_content(reason: BusyReason) -> Content {
    Content::fields([("reason", reason.code().to_string())])
}

fn rest_content(seconds: RestSeconds, cause: RestCause) -> Content {
    Content::fields([("reason", cause.code().to_string()), ("time", seconds.get().to_string())])
}

/// Leaving a non-idle state for idle: the "cancel" event, then `AgentState_Ready`.
fn back_to_idle(cancel_event: &'static str) -> Transition {
    Transition::to(AgentState::Idle, vec![(cancel_event, Content::Null), (names::READY, Content::Null)])
}

/// Applies `command` to `state`.
pub fn apply(state: AgentState, command: Command) -> Result<Transition, Refusal> {
    use AgentState::*;
    match (state, command) {
        (Busy { .. }, Command::SayFree | Command::CancelBusy) => Ok(back_to_idle(names::CANCEL_NOT_READY_SUCCESS)),
        (WrapUp, Command::SayFree | Command::CancelWork) => Ok(back_to_idle(names::CANCEL_WORK_SUCCESS)),
        (Rest { .. }, Command::CancelRest) => Ok(back_to_idle(names::CANCEL_REST_SUCCESS)),
        (Idle | WrapUp, Command::SayBusy { reason, .. }) => {
            Ok(Transition::to(Busy { reason }, vec![(names::SET_NOT_READY_SUCCESS, busy_content(reason))]))
        }
        (Busy { .. }, Command::SayBusy { reason, prolong }) => match prolong {
            Some(true) => {
                Ok(Transition::to(Busy { reason }, vec![(names::SET_NOT_READY_SUCCESS, busy_content(reason))]))
            }
            Some(false) => Err(Refusal::NotAllowed),
            None => Err(Refusal::ProlongRequired),
        },
        (Idle | Busy { .. } | WrapUp, Command::Rest { seconds, cause, .. }) => {
            Ok(Transition::to(Rest { seconds, cause }, vec![(names::SET_REST_SUCCESS, rest_content(seconds, cause))]))
        }
        (Rest { .. }, Command::Rest { seconds, cause, prolong }) => match prolong {
            Some(true) => Ok(Transition::to(
                Rest { seconds, cause },
                vec![(names::SET_REST_SUCCESS, rest_content(seconds, cause))],
            )),
            Some(false) => Err(Refusal::NotAllowed),
            None => Err(Refusal::ProlongRequired),
        },
        (Idle | Busy { .. }, Command::Work) => {
            Ok(Transition::to(WrapUp, vec![(names::SET_WORK_SUCCESS, Content::Null)]))
        }
        _ => Err(Refusal::NotAllowed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn busy(code: &str) -> Command {
        Command::SayBusy { reason: BusyReason::parse_client(code).unwrap(), prolong: None }
    }

    fn names_of(t: &Transition) -> Vec<&'static str> {
        t.events.iter().map(|(n, _)| *n).collect()
    }

    #[test]
    fn busy_then_free_emits_the_documented_events() {
        let t = apply(AgentState::Idle, busy("201")).unwrap();
        assert_eq!(names_of(&t), [names::SET_NOT_READY_SUCCESS]);
        assert_eq!(t.events[0].1, Content::fields([("reason", "201".into())]));
        let back = apply(t.next, Command::SayFree).unwrap();
        assert_eq!(back.next, AgentState::Idle);
        assert_eq!(names_of(&back), [names::CANCEL_NOT_READY_SUCCESS, names::READY]);
    }

    #[test]
    fn repeating_busy_needs_prolong() {
        let state = apply(AgentState::Idle, busy("201")).unwrap().next;
        assert_eq!(apply(state, busy("202")), Err(Refusal::ProlongRequired));
        let explicit_no = Command::SayBusy { reason: BusyReason::NONE, prolong: Some(false) };
        assert_eq!(apply(state, explicit_no), Err(Refusal::NotAllowed));
        let prolong = Command::SayBusy { reason: BusyReason::parse_client("202").unwrap(), prolong: Some(true) };
        assert!(matches!(apply(state, prolong).unwrap().next, AgentState::Busy { reason } if reason.code() == 202));
    }

    #[test]
    fn disallowed_transitions_are_refused() {
        let rest = Command::Rest {
            seconds: RestSeconds::parse("60").unwrap(),
            cause: RestCause::parse("1").unwrap(),
            prolong: None,
        };
        let resting = apply(AgentState::Idle, rest).unwrap().next;
        for cmd in [Command::SayFree, Command::CancelBusy, Command::Work, Command::CancelWork, busy("0")] {
            assert_eq!(apply(resting, cmd), Err(Refusal::NotAllowed), "{cmd:?} while resting");
        }
        for cmd in [Command::SayFree, Command::CancelBusy, Command::CancelRest, Command::CancelWork] {
            assert_eq!(apply(AgentState::Idle, cmd), Err(Refusal::NotAllowed), "{cmd:?} while idle");
        }
        assert_eq!(apply(AgentState::WrapUp, Command::Work), Err(Refusal::NotAllowed));
    }

    #[test]
    fn sign_in_status_events_follow_reference_3_5() {
        let (state, events) = InitialState::Busy.enter();
        assert_eq!(state.code(), 3);
        let got: Vec<_> = events.iter().map(|(n, _)| *n).collect();
        assert_eq!(got, [names::IN_SERVICE, names::READY, names::SET_NOT_READY_SUCCESS]);
        let (state, events) = InitialState::WrapUp.enter();
        assert_eq!((state.code(), events.last().unwrap().0), (5, names::WORK));
    }
}
