//! The error side of the envelope. Every failure, from the domain or from
//! the framework, leaves as `{"message", "retcode"}` through [`ApiError`].

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use super::envelope::{respond, Plain};
use crate::domain::Failure;
use crate::retcode::Retcode;

/// A refused request: the retcode, its message and the HTTP status
/// (200 for business outcomes, as the real gateway answers).
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub retcode: Retcode,
    pub message: String,
}

pub type ApiResult = Result<HttpResponse, ApiError>;

impl ApiError {
    /// A business outcome: HTTP 200 with a non-zero retcode.
    pub fn business(retcode: Retcode, message: impl Into<String>) -> ApiError {
        ApiError { status: StatusCode::OK, retcode, message: message.into() }
    }

    /// A framework-level failure with its own HTTP status.
    pub fn http(status: StatusCode, retcode: Retcode, message: impl Into<String>) -> ApiError {
        ApiError { status, retcode, message: message.into() }
    }

    /// A path or query parameter outside its documented range.
    pub fn parameter(message: impl Into<String>) -> ApiError {
        ApiError::business(Retcode::BadParameter, message)
    }
}

impl From<Failure> for ApiError {
    fn from(failure: Failure) -> ApiError {
        ApiError::business(failure.code, failure.detail)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.retcode, self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        respond(self.status, self.retcode, &Plain { message: self.message.clone(), retcode: self.retcode })
    }
}
