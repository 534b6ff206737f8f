//! Errors in the shape ECS gives them: an error code for `__type`, a message, and the HTTP status.

use serde_json::json;

/// An error answer of the ECS API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The error code sent as `__type`, which SDKs map to their error variants.
    pub code: &'static str,
    /// The human-readable `message`.
    pub message: String,
    /// The HTTP status: 400 for client errors, 500 for server errors.
    pub status: u16,
}

impl ApiError {
    fn new(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status,
        }
    }

    /// The request is wrong in a way ECS reports as a client error.
    pub fn client(message: impl Into<String>) -> Self {
        Self::new("ClientException", 400, message)
    }

    /// A parameter has a value ECS does not accept.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new("InvalidParameterException", 400, message)
    }

    /// The named cluster does not exist.
    pub fn cluster_not_found() -> Self {
        Self::new("ClusterNotFoundException", 400, "Cluster not found.")
    }

    /// The named service does not exist.
    pub fn service_not_found() -> Self {
        Self::new("ServiceNotFoundException", 400, "Service not found.")
    }

    /// The service exists but is DRAINING or INACTIVE.
    pub fn service_not_active() -> Self {
        Self::new("ServiceNotActiveException", 400, "Service was not ACTIVE.")
    }

    /// The request conflicts with the resource's state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new("ConflictException", 400, message)
    }

    /// The named service deployment does not exist.
    pub fn service_deployment_not_found() -> Self {
        Self::new(
            "ServiceDeploymentNotFoundException",
            400,
            "The service deployment does not exist.",
        )
    }

    /// The tagged resource does not exist.
    pub fn resource_not_found() -> Self {
        Self::new(
            "ResourceNotFoundException",
            400,
            "The specified resource could not be found.",
        )
    }

    /// The caller is over its request rate.
    pub fn throttling() -> Self {
        Self::new("ThrottlingException", 400, "Rate exceeded")
    }

    /// The caller's IAM policy does not allow the operation.
    pub fn access_denied(operation: &str) -> Self {
        Self::new(
            "AccessDeniedException",
            400,
            format!("User is not authorized to perform: ecs:{operation} (injected by ecs-sim)"),
        )
    }

    /// ECS failed on its side.
    pub fn server(message: impl Into<String>) -> Self {
        Self::new("ServerException", 500, message)
    }

    /// The body is not JSON, or a member has the wrong type or is not known.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", 400, message)
    }

    /// The `X-Amz-Target` header names no operation that is served.
    pub fn unknown_operation(target: &str) -> Self {
        Self::new(
            "UnknownOperationException",
            400,
            format!("Unknown operation {target}"),
        )
    }

    /// The JSON body of the error answer.
    pub fn body(&self) -> serde_json::Value {
        json!({"__type": self.code, "message": self.message})
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<ecs_model::Invalid> for ApiError {
    /// A request that does not fit the model gets the error code ECS gives for that rule.
    fn from(invalid: ecs_model::Invalid) -> Self {
        use ecs_model::InvalidKind;
        match invalid.kind {
            InvalidKind::Serialization => Self::serialization(invalid.message),
            InvalidKind::MissingMember => Self::client(invalid.message),
            InvalidKind::InvalidValue => Self::invalid_parameter(invalid.message),
            InvalidKind::UnknownOperation => {
                Self::new("UnknownOperationException", 400, invalid.message)
            }
            InvalidKind::Model => Self::server(invalid.message),
        }
    }
}
