//! An AWS call that failed, classified by what happens next: the message is rejected for good, or the call
//! is worth trying again later.

use std::error::Error as StdError;
use std::sync::Arc;

use aws_sdk_ecs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

/// ECS error codes that mean the request itself is wrong: the same message would fail the same way again.
const REJECTING_CODES: [&str; 8] = [
    "ClientException",
    "InvalidParameterException",
    "ClusterNotFoundException",
    "ServiceNotFoundException",
    "ServiceNotActiveException",
    "PlatformUnknownException",
    "PlatformTaskDefinitionIncompatibilityException",
    "UnsupportedFeatureException",
];

/// Error codes of a call refused for its rate: nothing was done, so sending it again cannot do it twice.
const THROTTLING_CODES: [&str; 5] = [
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
];

/// A failed AWS call; cheap to clone, so one failed call shared by several rollouts reaches each of them.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{operation} failed: {message}")]
pub struct AwsError {
    /// The API operation, such as `RegisterTaskDefinition`.
    pub operation: &'static str,
    /// The service's error code, when the service answered with one.
    pub code: Option<String>,
    /// The error with its causes, as one line.
    pub message: String,
    /// Whether the request itself is at fault, so retrying the same message cannot help.
    pub rejects_request: bool,
    /// Whether the service refused the call for its rate before doing anything (throttling, or ECS's "too
    /// many concurrent attempts"), so sending it again cannot apply it twice.
    pub throttled: bool,
    /// The SDK's error, behind a pointer so results stay small.
    #[source]
    source: Arc<dyn StdError + Send + Sync>,
}

impl AwsError {
    /// Classifies an SDK error: only a service's explicit verdict on the request rejects it; throttling,
    /// server errors, timeouts, network and credential trouble are worth retrying.
    pub fn new<E, R>(operation: &'static str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let code = err.code().map(str::to_owned);
        let service_message = err.message().map(str::to_owned);
        let message = match (&code, &service_message) {
            (Some(code), Some(text)) => format!("{code}: {text}"),
            (Some(code), None) => code.clone(),
            _ => DisplayErrorContext(&err).to_string(),
        };
        let answered = matches!(err, SdkError::ServiceError(_));
        // ECS answers concurrent registrations in one family with a ClientException worth retrying.
        let too_many_attempts = service_message
            .as_deref()
            .is_some_and(|m| m.contains("Too many concurrent attempts"));
        let rejects_request = answered
            && code
                .as_deref()
                .is_some_and(|c| REJECTING_CODES.contains(&c))
            && !too_many_attempts;
        let throttled = answered
            && (too_many_attempts
                || code
                    .as_deref()
                    .is_some_and(|c| THROTTLING_CODES.contains(&c)));
        Self {
            operation,
            code,
            message,
            rejects_request,
            throttled,
            source: Arc::new(err),
        }
    }

    /// An answer that lacks what the API promises; worth retrying, as a fault of the moment.
    pub fn unexpected(operation: &'static str, message: &str) -> Self {
        Self {
            operation,
            code: None,
            message: message.to_owned(),
            rejects_request: false,
            throttled: false,
            source: Arc::from(Box::<dyn StdError + Send + Sync>::from(message)),
        }
    }

    /// ECS's ThrottlingException, as a test would have it answered.
    #[cfg(test)]
    pub fn throttling(operation: &'static str) -> Self {
        Self {
            code: Some("ThrottlingException".to_owned()),
            throttled: true,
            ..Self::unexpected(operation, "Rate exceeded")
        }
    }

    /// Whether the service answered with this error code.
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// Whether SQS said the queue does not exist (in its query or its JSON protocol's words).
    pub fn queue_missing(&self) -> bool {
        self.is("AWS.SimpleQueueService.NonExistentQueue") || self.is("QueueDoesNotExist")
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_ecs::operation::update_service::UpdateServiceError;
    use aws_smithy_runtime_api::http::{Response, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    fn service_error(code: &str, message: &str) -> SdkError<UpdateServiceError, Response> {
        let meta = ErrorMetadata::builder().code(code).message(message).build();
        let status = if code.starts_with("Server") { 500 } else { 400 };
        let response = Response::new(
            StatusCode::try_from(status).expect("a valid status"),
            SdkBody::empty(),
        );
        SdkError::service_error(UpdateServiceError::generic(meta), response)
    }

    #[test]
    fn only_a_verdict_on_the_request_rejects_it() {
        // (code, message, rejects the request, refused for its rate)
        let cases = [
            ("ClientException", "Container image is invalid", true, false),
            ("InvalidParameterException", "bad", true, false),
            (
                "ServiceNotFoundException",
                "Service not found.",
                true,
                false,
            ),
            (
                "ClusterNotFoundException",
                "Cluster not found.",
                true,
                false,
            ),
            (
                "ServiceNotActiveException",
                "Service was not ACTIVE.",
                true,
                false,
            ),
            (
                "ClientException",
                "Too many concurrent attempts to create a new revision of the specified family.",
                false,
                true,
            ),
            ("ThrottlingException", "Rate exceeded", false, true),
            ("ServerException", "internal", false, false),
            ("AccessDeniedException", "not allowed", false, false),
        ];
        for (code, message, rejects, throttled) in cases {
            let err = AwsError::new("UpdateService", service_error(code, message));
            assert_eq!(err.rejects_request, rejects, "{code}: {message}");
            assert_eq!(err.throttled, throttled, "{code}: {message}");
            assert!(err.is(code));
            assert_eq!(
                err.to_string(),
                format!("UpdateService failed: {code}: {message}")
            );
        }
        let timeout: SdkError<UpdateServiceError, Response> =
            SdkError::timeout_error("no answer in 3s");
        let err = AwsError::new("UpdateService", timeout);
        assert!(!err.rejects_request);
        assert!(!err.throttled);
        assert!(err.message.contains("no answer"), "{}", err.message);
    }
}
