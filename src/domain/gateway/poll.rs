//! The long poll.
use super::guids::rotation;
use super::guids::GuidChange;
use super::not_signed_in;
use super::Caller;
use super::Gateway;
use super::PollAnswer;
use crate::clock::now_ms;
use crate::domain::Failure;
use crate::retcode::Retcode;
use std::time::Duration;

impl Gateway {
    /// Long poll: the oldest queued event at once, or the first to arrive
    /// within the poll wait, or nothing. A newer poll ends this one empty,
    /// and so does the node shutting down.
    pub async fn poll(&self, caller: &Caller, ack: Option<u64>) -> Result<PollAnswer, Failure> {
        let generation = self.begin_poll(caller, ack).await?;
        self.0.store.wake(caller.session);
        let waker = self.0.store.waker(caller.session);
        let mut stopping = self.0.stopping.subscribe();
        let deadline = tokio::time::Instant::now() + Duration::from_millis(self.config().poll_wait_ms);
        let mut waiting = None;
        loop {
            let notified = waker.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.take_event(caller, generation, false).await? {
                Step::Answer(answer) => return Ok(answer),
                Step::Gone => return Err(not_signed_in()),
                Step::Wait => {}
            }
            waiting.get_or_insert_with(|| self.0.telemetry.poll_waiting());
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(deadline) => return self.finish_poll(caller, generation).await,
                _ = stopping.wait_for(|stopping| *stopping) => return self.finish_poll(caller, generation).await,
            }
        }
    }

    /// Ends a poll at its deadline: the next event if one came, else empty.
    async fn finish_poll(&self, caller: &Caller, generation: u64) -> Result<PollAnswer, Failure> {
        match self.take_event(caller, generation, true).await? {
            Step::Answer(answer) => Ok(answer),
            Step::Gone => Err(not_signed_in()),
            Step::Wait => Ok(PollAnswer::default()),
        }
    }

    async fn begin_poll(&self, caller: &Caller, ack: Option<u64>) -> Result<u64, Failure> {
        let wait = self.config().poll_wait_ms;
        let now = now_ms();
        self.with_slot(caller.work_no, |slot| {
            let session = slot.by_id(caller.session).ok_or_else(not_signed_in)?;
            if let Some(seq) = ack {
                session.queue.ack(seq).map_err(|ahead| {
                    Failure::new(
                        Retcode::BadParameter,
                        format!("ack {seq} is ahead of the last event issued ({})", ahead.last_issued),
                    )
                })?;
                session.acking = true;
            }
            session.poll_generation += 1;
            session.last_heartbeat = now;
            session.poll_until = now + wait;
            Ok(session.poll_generation)
        })
        .await?
    }

    /// Takes the next event for a poll of `generation`; at the deadline
    /// (`final_check`) also finishes the poll when nothing is queued.
    async fn take_event(&self, caller: &Caller, generation: u64, final_check: bool) -> Result<Step, Failure> {
        let policy = self.config().guid;
        let now = now_ms();
        let (mut step, finished, change) = self
            .with_slot(caller.work_no, |slot| {
                let Some(session) = slot.by_id(caller.session) else {
                    return (Step::Gone, false, GuidChange::default());
                };
                if session.poll_generation != generation {
                    return (Step::Answer(PollAnswer::default()), false, GuidChange::default());
                }
                if session.is_delivered() {
                    return (Step::Gone, false, GuidChange::default());
                }
                let event = session.queue.next(session.acking);
                if let Some(ending) = session.ended.as_mut() {
                    // Without ack the final event is delivered once sent; an
                    // acking client is done once it acknowledged everything.
                    // The session stays as a tombstone so its Guids get 100-006.
                    let finished = event.is_none() || (session.queue.is_empty() && !session.acking);
                    ending.delivered = finished;
                    let step = match event {
                        Some(event) => Step::Answer(PollAnswer { event: Some(event), set_guid: None }),
                        None => Step::Gone,
                    };
                    return (step, finished, GuidChange::default());
                }
                if event.is_none() && !final_check {
                    return (Step::Wait, false, GuidChange::default());
                }
                session.poll_until = now;
                session.last_heartbeat = now;
                let change = rotation(session, caller.guid, &policy, now);
                (Step::Answer(PollAnswer { event, set_guid: None }), false, change)
            })
            .await?;
        if finished {
            self.0.store.forget(caller.session);
        }
        if let Step::Answer(answer) = &mut step {
            answer.set_guid = self.apply_guid_change(caller.work_no, change);
        }
        Ok(step)
    }

    // ----- housekeeping -----------------------------------------------------
}

enum Step {
    Answer(PollAnswer),
    Wait,
    Gone,
}
