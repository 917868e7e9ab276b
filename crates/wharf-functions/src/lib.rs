//! CloudFront Functions: JavaScript (runtimes `cloudfront-js-1.0` and `cloudfront-js-2.0`) that
//! runs on viewer requests and viewer responses, with the event object CloudFront documents
//! ([`event`]), the modules it gives (`crypto`, `querystring`, `buffer` in 2.0, `cloudfront`),
//! and its limits ([`engine`]).
//!
//! The language is QuickJS's (ES2020), less what `cloudfront-js-1.0` documents it does not
//! support (`const`, `let`, `async`: [`language`]), with the modules each runtime has. A
//! compiled function is kept per worker thread and version, and its global state is reused
//! between the calls on one thread, as a warm function's would be.

pub mod engine;
pub mod event;
mod imports;
mod language;
mod native;
pub mod origin;
mod values;

use std::sync::Arc;

/// A function's runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsRuntime {
    V1,
    V2,
}

impl JsRuntime {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "cloudfront-js-1.0" => Some(Self::V1),
            "cloudfront-js-2.0" => Some(Self::V2),
            _ => None,
        }
    }
}

/// The keys and values of a KeyValueStore, as a function reads them.
pub type KeyValues = Arc<std::collections::BTreeMap<String, String>>;

/// One version of a function's code.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    /// Tells versions apart (compiled engines are kept by it): the name and the version's ETag.
    pub version: String,
    pub runtime: JsRuntime,
    pub code: Arc<str>,
    /// The associated KeyValueStore's ID and contents (`cloudfront.kvs()`), as of now: a
    /// newer snapshot comes with a new `Function` value without recompiling.
    pub key_values: Option<(String, KeyValues)>,
}

impl Function {
    pub fn new(name: &str, etag: &str, runtime: JsRuntime, code: &str) -> Self {
        Self {
            name: name.to_owned(),
            version: format!("{name}\u{0}{etag}"),
            runtime,
            code: code.into(),
            key_values: None,
        }
    }

    /// The same function reading this KeyValueStore.
    pub fn with_key_values(mut self, store: Option<(String, KeyValues)>) -> Self {
        self.key_values = store;
        self
    }

    /// Runs the function on an event object. The origin helpers work in a viewer-request
    /// event (and what they asked is in [`Execution::origin`]); elsewhere they throw.
    pub fn run(&self, event: &serde_json::Value) -> Execution {
        engine::run(self, event)
    }

    /// Runs the function on a viewer request (the edge's path: the event is built in
    /// JavaScript directly and a returned request read straight back, with no JSON between).
    pub fn run_viewer_request(
        &self,
        ctx: &event::EventContext<'_>,
        req: &event::ViewerRequest<'_>,
    ) -> Execution<event::RequestOutcome> {
        engine::run_with(
            self,
            ctx.event_type == event::EventType::ViewerRequest,
            |js, handler| {
                let make = handler.make_request_event()?;
                let (event, built) = values::request_event_js(js, &make, ctx, req)
                    .map_err(|e| handler.exception(e))?;
                let result = handler.invoke(event)?;
                values::request_outcome_js(&result, &built, req)
            },
        )
    }
}

/// What a call did.
#[derive(Debug)]
pub struct Execution<T = serde_json::Value> {
    /// The handler's return value (as JSON, unless read otherwise).
    pub output: Result<T, FunctionError>,
    /// Its `console.log` lines.
    pub logs: Vec<String>,
    /// The share of the compute budget it used, 0 to 100.
    pub compute_utilization: u32,
    /// The origin the request goes to instead of its behavior's, when a viewer-request
    /// function's origin helpers asked for one.
    pub origin: Option<origin::OriginChange>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionError {
    /// The code does not compile, has no `handler`, or is too large.
    Compile(String),
    /// The handler threw.
    Exception(String),
    /// A limit stopped it (compute, memory).
    Limit(&'static str),
    /// It returned something that is not a request or response.
    BadOutput(String),
}

impl std::fmt::Display for FunctionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FunctionError::Compile(m) => write!(f, "The function cannot be compiled: {m}"),
            FunctionError::Exception(m) => write!(f, "The function threw an error: {m}"),
            FunctionError::Limit(m) => write!(f, "The function was stopped: {m}"),
            FunctionError::BadOutput(m) => write!(f, "The function's result is not valid: {m}"),
        }
    }
}

#[cfg(test)]
mod tests;
