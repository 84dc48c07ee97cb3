//! Why a request failed, independent of any vendor's wording. Each vendor's `render_error` turns
//! a [`Failure`] into that vendor's own error form; nothing else renders errors.

/// A failed request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// No credentials where the API needs some. `challenges` are `WWW-Authenticate` values.
    #[error("authentication required")]
    AuthRequired { challenges: Vec<String> },
    /// Credentials present but wrong, unknown, expired or replayed. Deliberately says no more:
    /// unknown user and wrong password must look the same.
    #[error("authentication failed")]
    AuthFailed { challenges: Vec<String> },
    /// The client address is not on the tenant's allow-list for this API.
    #[error("address not allowed")]
    AddressForbidden,
    /// Authenticated, but lacking the role for this operation.
    #[error("not allowed")]
    Forbidden,
    /// A call destination the tenant may not reach (an outside SIP domain, a number no dial
    /// plan routes). Refused before any INVITE.
    #[error("destination not allowed: {0}")]
    DestinationRefused(String),
    /// Too many failed logins from this address; it is ignored for a while.
    #[error("too many failed attempts")]
    Banned { retry_after_secs: u32 },
    /// Request-rate or call-rate limit hit.
    #[error("rate limited")]
    RateLimited { retry_after_secs: u32 },
    /// The gateway (or the B2BUA) is at its concurrency limit.
    #[error("overloaded")]
    Overloaded,
    /// The B2BUA cannot be reached.
    #[error("call service unavailable: {0}")]
    Unavailable(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A missing or invalid parameter.
    #[error("bad parameter {field}: {reason}")]
    BadRequest { field: String, reason: String },
    /// The operation is not valid in the current state (e.g. hangup of an ended call).
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("request too large")]
    TooLarge,
    /// The vendor operation exists in the vendor API but Patchbay does not implement it.
    #[error("not implemented: {0}")]
    NotImplemented(String),
    /// An application endpoint the request names (an Ozeki API extension) is not set up.
    #[error("unavailable: {0}")]
    EndpointUnavailable(String),
    /// The call could not be placed to `target`; `state` says how it ended.
    #[error("call to {target} failed: {state}")]
    ConnectFailed { target: String, state: String },
    /// A message's recipient cannot be reached (no such user, no registered phone).
    #[error("destination not found")]
    NoDestination,
    /// An object type the API does not keep (Ozeki `ExtensionType`).
    #[error("unknown type: {0}")]
    UnknownType(String),
    /// A document that does not describe a valid object of this type.
    #[error("invalid {0} document")]
    InvalidDocument(String),
    /// The object to create exists already.
    #[error("already exists: {0}")]
    AlreadyExists(String),
    /// No representation the client accepts (`Accept`); the text is the vendor's, if any.
    #[error("not acceptable: {0}")]
    NotAcceptable(String),
    /// Authenticated, but not as the user the request names (sipX's redirector: the agent).
    #[error("not the user: {0}")]
    WrongUser(String),
    /// The object is another user's (sipX: a conference the user does not own); the text is
    /// the vendor's.
    #[error("not yours: {0}")]
    NotOwner(String),
    /// A vendor that tells unknown users apart (sipXcallController's `User Not found`): the
    /// user a request names does not exist. Counted as a failed login.
    #[error("unknown user {0}")]
    UnknownUser(String),
    #[error("internal error")]
    Internal(String),
}

impl Failure {
    pub fn bad(field: impl Into<String>, reason: impl Into<String>) -> Failure {
        Failure::BadRequest {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Bounded label for metrics (`reason` of auth failures, error kinds).
    pub fn label(&self) -> &'static str {
        match self {
            Failure::AuthRequired { .. } => "auth_required",
            Failure::AuthFailed { .. } => "auth_failed",
            Failure::AddressForbidden => "address_forbidden",
            Failure::Forbidden => "forbidden",
            Failure::DestinationRefused(_) => "destination_refused",
            Failure::Banned { .. } => "banned",
            Failure::RateLimited { .. } => "rate_limited",
            Failure::Overloaded => "overloaded",
            Failure::Unavailable(_) => "unavailable",
            Failure::NotFound(_) => "not_found",
            Failure::MethodNotAllowed => "method_not_allowed",
            Failure::BadRequest { .. } => "bad_request",
            Failure::Conflict(_) => "conflict",
            Failure::TooLarge => "too_large",
            Failure::NotImplemented(_) => "not_implemented",
            Failure::EndpointUnavailable(_) => "endpoint_unavailable",
            Failure::ConnectFailed { .. } => "connect_failed",
            Failure::NoDestination => "no_destination",
            Failure::UnknownType(_) => "unknown_type",
            Failure::InvalidDocument(_) => "invalid_document",
            Failure::AlreadyExists(_) => "already_exists",
            Failure::UnknownUser(_) => "unknown_user",
            Failure::NotOwner(_) => "not_owner",
            Failure::NotAcceptable(_) => "not_acceptable",
            Failure::WrongUser(_) => "wrong_user",
            Failure::Internal(_) => "internal",
        }
    }
}
