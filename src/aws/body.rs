//! Two SDK interceptors for requests that must not go through the SDK's own structs: one replaces a
//! request's body with JSON as given, one keeps a response's body as received.

use std::sync::{Arc, Mutex, PoisonError};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::ConfigBag;

/// Keeps the body of one response, as text.
#[derive(Debug, Clone, Default)]
pub struct ResponseBody(Arc<Mutex<Option<String>>>);

impl ResponseBody {
    /// The body, once the response came.
    pub fn take(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl Intercept for ResponseBody {
    fn name(&self) -> &'static str {
        "ResponseBody"
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let text = context
            .response()
            .body()
            .bytes()
            .map(|b| String::from_utf8_lossy(b).into_owned());
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = text;
        Ok(())
    }
}

/// Replaces the serialized body of one request with the given JSON, before it is signed.
#[derive(Debug)]
pub struct RequestBody(pub String);

impl Intercept for RequestBody {
    fn name(&self) -> &'static str {
        "RequestBody"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        *request.body_mut() = SdkBody::from(self.0.clone());
        request
            .headers_mut()
            .insert("content-length", self.0.len().to_string());
        Ok(())
    }
}
