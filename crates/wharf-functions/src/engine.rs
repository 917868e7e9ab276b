//! Running a function: QuickJS (rquickjs) engines compiled once per function version and worker
//! thread and reused, so a request pays for its call only; CloudFront's limits enforced (code
//! size, memory, a compute budget that an interrupt stops); the result and the function's
//! `console.log` lines returned.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rquickjs::{
    CatchResultExt, Context, Ctx, Function as JsFunction, Object, Persistent, Promise, Runtime,
    Value,
};

use crate::native;
use crate::{Execution, Function, FunctionError, JsRuntime};

/// CloudFront's limit on a function's code.
pub const MAX_CODE_BYTES: usize = 10 * 1024;
/// Memory a function may use (CloudFront: 2 MB), on top of what the engine itself takes.
pub const MEMORY_BYTES: usize = 2 << 20;
/// The compute budget: CPU time one invocation may take. `ComputeUtilization` is the share
/// of it used.
pub const COMPUTE_BUDGET_NS: u64 = 5_000_000;
/// Compiled functions kept per worker thread.
const ENGINES_PER_THREAD: usize = 128;

const PRELUDE: &str = include_str!("prelude.js");

struct Engine {
    // Dropped after the persistent values below (fields drop in order).
    handler: Persistent<JsFunction<'static>>,
    native: Persistent<Object<'static>>,
    context: Context,
    runtime: Runtime,
    /// The thread CPU time past which the interrupt stops the code (0: no limit now).
    deadline: Arc<AtomicU64>,
}

thread_local! {
    static ENGINES: RefCell<HashMap<String, Rc<Engine>>> = RefCell::new(HashMap::new());
}

/// This thread's CPU time, in nanoseconds.
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

fn exception(ctx: &Ctx<'_>, e: rquickjs::Error) -> String {
    let caught = Err::<(), _>(e).catch(ctx).err();
    caught.map_or_else(|| "unknown error".to_owned(), |c| c.to_string())
}

impl Engine {
    fn compile(runtime_kind: JsRuntime, code: &str) -> Result<Self, FunctionError> {
        if code.len() > MAX_CODE_BYTES {
            return Err(FunctionError::Compile(format!(
                "the function's code is {} bytes; the limit is {MAX_CODE_BYTES}",
                code.len()
            )));
        }
        let internal = |e: rquickjs::Error| FunctionError::Compile(e.to_string());
        let runtime = Runtime::new().map_err(internal)?;
        let deadline = Arc::new(AtomicU64::new(0));
        let d = deadline.clone();
        runtime.set_interrupt_handler(Some(Box::new(move || {
            let limit = d.load(Ordering::Relaxed);
            limit != 0 && thread_cpu_ns() > limit
        })));
        runtime.set_max_stack_size(256 * 1024);
        let context = Context::full(&runtime).map_err(internal)?;
        let (handler, native_obj) = context.with(|ctx| -> Result<_, FunctionError> {
            let native_obj = native::install(&ctx, runtime_kind).map_err(internal)?;
            ctx.globals()
                .set("__wharf", native_obj.clone())
                .map_err(internal)?;
            ctx.eval::<(), _>(PRELUDE)
                .map_err(|e| FunctionError::Compile(exception(&ctx, e)))?;
            ctx.globals().remove("__wharf").map_err(internal)?;
            ctx.eval::<(), _>(crate::imports::as_script(code))
                .map_err(|e| FunctionError::Compile(exception(&ctx, e)))?;
            let handler: Value = ctx.globals().get("handler").map_err(internal)?;
            let Some(handler) = handler.into_function() else {
                return Err(FunctionError::Compile(
                    "the code must define a function named handler".into(),
                ));
            };
            Ok((
                Persistent::save(&ctx, handler),
                Persistent::save(&ctx, native_obj),
            ))
        })?;
        // What the engine and the code's top level take, plus the function's allowance.
        let used = usize::try_from(runtime.memory_usage().malloc_size).unwrap_or(0);
        runtime.set_memory_limit(used + MEMORY_BYTES);
        Ok(Self {
            handler,
            native: native_obj,
            context,
            runtime,
            deadline,
        })
    }

    fn call(&self, event: &serde_json::Value) -> Execution {
        let started = thread_cpu_ns();
        self.deadline
            .store(started + COMPUTE_BUDGET_NS, Ordering::Relaxed);
        let (output, logs) = self.context.with(|ctx| {
            let output = (|| {
                let handler = self
                    .handler
                    .clone()
                    .restore(&ctx)
                    .map_err(|e| FunctionError::Exception(e.to_string()))?;
                let event = ctx
                    .json_parse(event.to_string())
                    .map_err(|e| FunctionError::Exception(exception(&ctx, e)))?;
                let mut result: Value =
                    handler.call((event,)).map_err(|e| self.failure(&ctx, e))?;
                if let Some(promise) = result.as_object().and_then(|o| o.as_promise()) {
                    let promise: Promise = promise.clone();
                    // The jobs its `await`s queued; the compute budget still applies.
                    let limit = self.deadline.load(Ordering::Relaxed);
                    while thread_cpu_ns() <= limit && ctx.execute_pending_job() {}
                    result = match promise.result::<Value>() {
                        Some(Ok(v)) => v,
                        Some(Err(e)) => return Err(self.failure(&ctx, e)),
                        None => {
                            return Err(FunctionError::Exception(
                                "the handler's promise did not settle".into(),
                            ));
                        }
                    };
                }
                let text = ctx
                    .json_stringify(result)
                    .map_err(|e| self.failure(&ctx, e))?
                    .and_then(|s| s.to_string().ok())
                    .ok_or_else(|| {
                        FunctionError::BadOutput("the handler returned nothing".into())
                    })?;
                serde_json::from_str(&text).map_err(|e| FunctionError::BadOutput(e.to_string()))
            })();
            let logs = self.take_logs(&ctx);
            (output, logs)
        });
        let used = thread_cpu_ns().saturating_sub(started);
        self.deadline.store(0, Ordering::Relaxed);
        // A function that ran out of memory leaves garbage the next call should not pay for.
        if matches!(output, Err(FunctionError::Limit(_))) {
            self.runtime.run_gc();
        }
        Execution {
            output,
            logs,
            compute_utilization: utilization(used),
        }
    }

    /// An exception, or one of the limits stopping the code.
    fn failure(&self, ctx: &Ctx<'_>, e: rquickjs::Error) -> FunctionError {
        let over_time = {
            let limit = self.deadline.load(Ordering::Relaxed);
            limit != 0 && thread_cpu_ns() > limit
        };
        let text = exception(ctx, e);
        if over_time || text.contains("interrupted") {
            FunctionError::Limit("the function exceeded its compute budget")
        } else if text.contains("out of memory") || text.contains("stack overflow") {
            FunctionError::Limit("the function exceeded its memory")
        } else {
            FunctionError::Exception(text)
        }
    }

    fn take_logs(&self, ctx: &Ctx<'_>) -> Vec<String> {
        let Ok(native) = self.native.clone().restore(ctx) else {
            return Vec::new();
        };
        let take: Result<JsFunction, _> = native.get("takeLogs");
        take.and_then(|f| f.call::<_, Vec<String>>(()))
            .unwrap_or_default()
    }
}

/// `ComputeUtilization`: the share of the budget used, 0 to 100.
fn utilization(used_ns: u64) -> u32 {
    let pct = used_ns.saturating_mul(100).div_ceil(COMPUTE_BUDGET_NS);
    u32::try_from(pct.min(100)).unwrap_or(100)
}

/// Compiles `code` in a fresh engine: a syntax error, a missing `handler` or code over the
/// size limit is refused.
pub fn check(runtime: JsRuntime, code: &str) -> Result<(), FunctionError> {
    Engine::compile(runtime, code).map(|_| ())
}

/// Runs `f` on `event` with this thread's engine for it (compiled on first use).
pub fn run(f: &Function, event: &serde_json::Value) -> Execution {
    let engine = ENGINES.with(|engines| {
        if let Some(e) = engines.borrow().get(&f.version) {
            return Ok(e.clone());
        }
        let e = Rc::new(Engine::compile(f.runtime, &f.code)?);
        let mut engines = engines.borrow_mut();
        if engines.len() >= ENGINES_PER_THREAD {
            engines.clear();
        }
        engines.insert(f.version.clone(), e.clone());
        Ok(e)
    });
    match engine {
        Ok(e) => {
            let _store = native::reading(f.key_values.clone());
            e.call(event)
        }
        Err(err) => Execution {
            output: Err(err),
            logs: Vec::new(),
            compute_utilization: 0,
        },
    }
}
