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
    CatchResultExt, Context, Ctx, Function as JsFunction, Persistent, Promise, Runtime, Value,
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
    /// The prelude's maker of viewer-request events.
    make_request_event: Persistent<JsFunction<'static>>,
    context: Context,
    runtime: Runtime,
    /// The running call's compute budget (the interrupt handler reads it too).
    budget: Arc<Budget>,
}

thread_local! {
    static ENGINES: RefCell<HashMap<String, Rc<Engine>>> = RefCell::new(HashMap::new());
}

/// A clock's time, in nanoseconds.
fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec it is given.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

/// How long a call runs before its CPU time is read rather than bounded by the time passed.
const CPU_CLOCK_AFTER_NS: u64 = 1_000_000;

/// One call's compute budget, told cheaply. The CPU time a call has used is at most the
/// (monotonic) time since it started, which is read without a system call; only once a call
/// has run for longer than [`CPU_CLOCK_AFTER_NS`] is the thread's CPU clock (a system call)
/// read, the time before that counted as CPU time. A short call, which is nearly every call,
/// reads no CPU clock at all; a long one is never stopped before it has used 4 of its 5 ms.
#[derive(Default)]
struct Budget {
    /// When the running call started (monotonic clock; 0: no call running).
    started: AtomicU64,
    /// The thread's CPU time the call is counted from, once read (0: not yet).
    cpu_from: AtomicU64,
}

impl Budget {
    fn start(&self) {
        self.cpu_from.store(0, Ordering::Relaxed);
        self.started
            .store(clock_ns(libc::CLOCK_MONOTONIC), Ordering::Relaxed);
    }

    /// The CPU time the running call has used (an upper bound in its first millisecond).
    fn used(&self) -> u64 {
        let started = self.started.load(Ordering::Relaxed);
        if started == 0 {
            return 0;
        }
        let passed = clock_ns(libc::CLOCK_MONOTONIC).saturating_sub(started);
        if passed <= CPU_CLOCK_AFTER_NS {
            return passed;
        }
        let cpu = clock_ns(libc::CLOCK_THREAD_CPUTIME_ID);
        match self.cpu_from.load(Ordering::Relaxed) {
            0 => {
                // The first look at the CPU clock: what passed so far counts as CPU time.
                self.cpu_from
                    .store(cpu.saturating_sub(passed).max(1), Ordering::Relaxed);
                passed
            }
            from => cpu.saturating_sub(from),
        }
    }

    fn exceeded(&self) -> bool {
        self.used() > COMPUTE_BUDGET_NS
    }

    /// Ends the call: the CPU time it used.
    fn stop(&self) -> u64 {
        let used = self.used();
        self.started.store(0, Ordering::Relaxed);
        used
    }
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
        if runtime_kind == JsRuntime::V1 {
            crate::language::check_runtime_1(code).map_err(FunctionError::Compile)?;
        }
        let internal = |e: rquickjs::Error| FunctionError::Compile(e.to_string());
        let runtime = Runtime::new().map_err(internal)?;
        // `Date` at the code's top level answers the time it was compiled.
        native::invocation_starts();
        let budget = Arc::new(Budget::default());
        let b = budget.clone();
        runtime.set_interrupt_handler(Some(Box::new(move || b.exceeded())));
        runtime.set_max_stack_size(256 * 1024);
        let context = Context::full(&runtime).map_err(internal)?;
        let (handler, make_request_event) = context.with(|ctx| -> Result<_, FunctionError> {
            let native_obj = native::install(&ctx, runtime_kind).map_err(internal)?;
            ctx.globals()
                .set("__wharf", native_obj.clone())
                .map_err(internal)?;
            let make_event: JsFunction = ctx
                .eval(PRELUDE)
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
                Persistent::save(&ctx, make_event),
            ))
        })?;
        // What the engine and the code's top level take, plus the function's allowance.
        let used = usize::try_from(runtime.memory_usage().malloc_size).unwrap_or(0);
        runtime.set_memory_limit(used + MEMORY_BYTES);
        Ok(Self {
            handler,
            make_request_event,
            context,
            runtime,
            budget,
        })
    }

    /// Runs `body`, which builds the event, calls the handler on it through the [`Invoker`]
    /// and makes the result what the caller wants (a JSON value, or a request change read
    /// straight from JavaScript).
    fn call<T>(
        &self,
        body: impl for<'js> FnOnce(&Ctx<'js>, &Invoker<'_, 'js>) -> Result<T, FunctionError>,
    ) -> Execution<T> {
        // Lines the code's top level logged when it was compiled are not this call's.
        native::take_logs();
        native::invocation_starts();
        self.budget.start();
        let (output, logs) = self.context.with(|ctx| {
            let output = (|| {
                body(
                    &ctx,
                    &Invoker {
                        engine: self,
                        ctx: &ctx,
                        handler: restore(&ctx, &self.handler)?,
                    },
                )
            })();
            (output, native::take_logs())
        });
        let used = self.budget.stop();
        // An origin helper given something invalid makes the whole result invalid.
        let (output, origin) = match native::take_origin() {
            Some(Err(invalid)) => (output.and(Err(FunctionError::BadOutput(invalid))), None),
            Some(Ok(change)) => (output, Some(change)),
            None => (output, None),
        };
        // A function that ran out of memory leaves garbage the next call should not pay for.
        if matches!(output, Err(FunctionError::Limit(_))) {
            self.runtime.run_gc();
        }
        Execution {
            output,
            logs,
            compute_utilization: utilization(used),
            origin,
        }
    }

    /// An exception, or one of the limits stopping the code.
    fn failure(&self, ctx: &Ctx<'_>, e: rquickjs::Error) -> FunctionError {
        let over_time = self.budget.exceeded();
        let text = exception(ctx, e);
        if over_time || text.contains("interrupted") {
            FunctionError::Limit("the function exceeded its compute budget")
        } else if text.contains("out of memory") || text.contains("stack overflow") {
            FunctionError::Limit("the function exceeded its memory")
        } else {
            FunctionError::Exception(text)
        }
    }
}

/// A function kept across calls, in this call's context.
fn restore<'js>(
    ctx: &Ctx<'js>,
    f: &Persistent<JsFunction<'static>>,
) -> Result<JsFunction<'js>, FunctionError> {
    f.clone()
        .restore(ctx)
        .map_err(|e| FunctionError::Exception(e.to_string()))
}

/// Calls a function's handler on an event, within one [`Engine::call`].
pub struct Invoker<'a, 'js> {
    engine: &'a Engine,
    ctx: &'a Ctx<'js>,
    handler: JsFunction<'js>,
}

impl<'js> Invoker<'_, 'js> {
    /// The prelude's maker of viewer-request events (only the edge's direct path needs it).
    pub fn make_request_event(&self) -> Result<JsFunction<'js>, FunctionError> {
        restore(self.ctx, &self.engine.make_request_event)
    }

    /// The handler's result on `event`, its promise settled when it is `async`.
    pub fn invoke(&self, event: Value<'js>) -> Result<Value<'js>, FunctionError> {
        let (engine, ctx) = (self.engine, self.ctx);
        let mut result: Value = self
            .handler
            .call((event,))
            .map_err(|e| engine.failure(ctx, e))?;
        if let Some(promise) = result.as_object().and_then(|o| o.as_promise()) {
            let promise: Promise = promise.clone();
            // The jobs its `await`s queued; the compute budget still applies.
            while !engine.budget.exceeded() && ctx.execute_pending_job() {}
            result = match promise.result::<Value>() {
                Some(Ok(v)) => v,
                Some(Err(e)) => return Err(engine.failure(ctx, e)),
                None => {
                    return Err(FunctionError::Exception(
                        "the handler's promise did not settle".into(),
                    ));
                }
            };
        }
        Ok(result)
    }

    /// A JavaScript exception as a function error.
    pub fn exception(&self, e: rquickjs::Error) -> FunctionError {
        FunctionError::Exception(exception(self.ctx, e))
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
    let viewer_request = event["context"]["eventType"] == "viewer-request";
    run_with(f, viewer_request, |ctx, handler| {
        let event = crate::values::to_js(ctx, event).map_err(|e| handler.exception(e))?;
        let result = handler.invoke(event)?;
        crate::values::from_js(&result, 0)
            .map_err(FunctionError::BadOutput)?
            .ok_or_else(|| FunctionError::BadOutput("the handler returned nothing".into()))
    })
}

/// Runs `body` (which builds an event, invokes the handler and reads its result) with this
/// thread's engine for `f`; the origin helpers work when `viewer_request`.
pub fn run_with<T>(
    f: &Function,
    viewer_request: bool,
    body: impl for<'js> FnOnce(&Ctx<'js>, &Invoker<'_, 'js>) -> Result<T, FunctionError>,
) -> Execution<T> {
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
            native::origin_helpers(viewer_request);
            e.call(body)
        }
        Err(err) => Execution {
            output: Err(err),
            logs: Vec::new(),
            compute_utilization: 0,
            origin: None,
        },
    }
}
