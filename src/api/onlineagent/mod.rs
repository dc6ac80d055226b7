//! `onlineagent`: the agent acting on itself (reference §2.1), one module
//! per concern; this one registers them all, in the API document's order.

pub mod heartbeat;
pub mod messages;
pub mod settings;
pub mod sign_in;
pub mod state;

use utoipa_actix_web::scope;

use heartbeat::*;
use messages::*;
use settings::*;
use sign_in::*;
use state::*;

/// Registers this resource's routes (actix and OpenAPI from one list).
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    // One scope per agent path: its segment is matched once, and the tails
    // are mostly fixed strings, cheaper to compare than patterns. The order
    // here is also the order of the API document.
    cfg.service(
        scope("/onlineagent/{agentid:[^/]*}")
            .service(login)
            .service(force_login)
            .service(login_ex)
            .service(logout)
            .service(force_logout)
            .service(force_logout_with_reason)
            .service(say_free)
            .service(say_busy)
            .service(cancel_busy)
            .service(rest)
            .service(cancel_rest)
            .service(say_work)
            .service(cancel_work)
            .service(set_auto_enter_idle)
            .service(set_agent_auto_answer)
            .service(set_talk_right)
            .service(set_custom_state)
            .service(query_custom_state)
            .service(reset_skill)
            .service(query_agent_skills)
            .service(query_agent_skills_by_work_no)
            .service(get_agent_status)
            .service(hand_shake)
            .service(heart_beat)
            .service(send_notelet_ex)
            .service(notify_bulletin)
            .service(query_reason_codes),
    );
}
