//! An SDK interceptor that reports every failed call attempt (the SDK's own retries included) by service,
//! operation and error code, and the reading of an error code from any AWS protocol's response.

use std::sync::Arc;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::FinalizerInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// How much of an error response is read for its error code.
const MAX_ERROR_BODY: usize = 4096;

/// One failed attempt of an AWS call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedAttempt<'a> {
    /// The SDK's service name, such as `ECS` or `SQS`.
    pub service: &'a str,
    /// The API operation, such as `DescribeServices`.
    pub operation: &'a str,
    /// The service's error code, or `timeout`, `connection`, `http_NNN`, `other`.
    pub error: &'a str,
}

/// Where failed attempts are reported.
type Report = Arc<dyn Fn(&FailedAttempt<'_>) + Send + Sync>;

/// Reports each failed attempt of a client's calls; add it to a client's configuration.
#[derive(Clone)]
pub struct FailedAttempts {
    /// Called once per failed attempt.
    report: Report,
}

impl FailedAttempts {
    /// An interceptor that calls `report` for every failed attempt.
    pub fn new(report: impl Fn(&FailedAttempt<'_>) + Send + Sync + 'static) -> Self {
        Self {
            report: Arc::new(report),
        }
    }
}

impl std::fmt::Debug for FailedAttempts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailedAttempts").finish_non_exhaustive()
    }
}

impl Intercept for FailedAttempts {
    fn name(&self) -> &'static str {
        "FailedAttempts"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(Err(err)) = context.output_or_error() else {
            return Ok(());
        };
        let (service, operation) = cfg
            .load::<Metadata>()
            .map_or(("unknown", "unknown"), |m| (m.service(), m.name()));
        let error = if err.is_timeout_error() {
            "timeout".to_owned()
        } else if err.is_connector_error() {
            "connection".to_owned()
        } else {
            context
                .response()
                .map(|r| {
                    let headers = r.headers();
                    let header = headers
                        .get("x-amzn-query-error")
                        .or_else(|| headers.get("x-amzn-errortype"));
                    error_code(header, r.body().bytes())
                        .unwrap_or_else(|| format!("http_{}", r.status().as_u16()))
                })
                .unwrap_or_else(|| "other".to_owned())
        };
        (self.report)(&FailedAttempt {
            service,
            operation,
            error: &error,
        });
        Ok(())
    }
}

/// The error code of an AWS error response: from its error-type header, or a JSON body's `__type`, or an
/// XML body's `<Code>`.
pub fn error_code(header: Option<&str>, body: Option<&[u8]>) -> Option<String> {
    // Headers look like `ThrottlingException:http://internal.amazon.com/` or `Code;Sender`.
    let clean = |code: &str| {
        let code = code.split([':', ';']).next().unwrap_or(code);
        let code = code.rsplit('#').next().unwrap_or(code).trim();
        (!code.is_empty()
            && code.len() <= 100
            && code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_'))
        .then(|| code.to_owned())
    };
    if let Some(code) = header.and_then(clean) {
        return Some(code);
    }
    let body = body?;
    let body = &body[..body.len().min(MAX_ERROR_BODY)];
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(body) {
        return json
            .get("__type")
            .or_else(|| json.get("code"))
            .and_then(|v| v.as_str())
            .and_then(clean);
    }
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let end = text[start..].find("</Code>")? + start;
    clean(&text[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_read_from_each_protocol() {
        let cases: [(Option<&str>, &str, Option<&str>); 7] = [
            (
                Some("ThrottlingException:http://internal.amazon.com/"),
                "",
                Some("ThrottlingException"),
            ),
            (
                Some("AWS.SimpleQueueService.NonExistentQueue;Sender"),
                "",
                Some("AWS.SimpleQueueService.NonExistentQueue"),
            ),
            (
                None,
                r#"{"__type": "com.amazonaws.ecs#ClientException", "message": "x"}"#,
                Some("ClientException"),
            ),
            (
                None,
                "<ErrorResponse><Error><Code>NotFound</Code></Error></ErrorResponse>",
                Some("NotFound"),
            ),
            (None, "<html>bad gateway</html>", None),
            (None, r#"{"__type": "has spaces in it"}"#, None),
            (Some(""), "", None),
        ];
        for (header, body, expected) in cases {
            assert_eq!(
                error_code(header, Some(body.as_bytes())).as_deref(),
                expected,
                "{header:?} {body}"
            );
        }
    }
}
