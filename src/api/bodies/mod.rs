//! Request bodies: JSON read field by field into the domain's validated
//! requests (`domain::requests`), each problem mapped to its retcode.

mod messages;
mod sign_in;

pub use messages::{bulletin_request, note_request};
pub use sign_in::{sign_in_request, SignInBody};
