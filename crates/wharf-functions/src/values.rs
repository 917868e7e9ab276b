//! The event object into JavaScript and the handler's result out of it, value by value (no
//! JSON text in between: serialising and parsing the event was most of a call's cost). The
//! result is read as `JSON.stringify` would write it: `undefined` and functions are left out,
//! a `toJSON` method (a `Buffer`'s) is not called.

use rquickjs::function::Flat;
use rquickjs::object::Property;
use rquickjs::{Array, Atom, Ctx, IntoAtom, IntoJs, Object, Result, Value};
use serde_json::{Map, Number};

use crate::FunctionError;
use crate::event::{
    EventContext, Groups, QueryString, RequestOutcome, ViewerRequest, bad, cookie_groups,
    header_groups, query_groups, request_change_from, request_outcome,
};

/// Nesting read from a result at most (deeper is refused, as a cycle would be).
const MAX_DEPTH: usize = 32;

/// Sets `o[key]` as an own data property. Plain assignment would, for a key `__proto__` (a
/// header or query parameter may be named so), change the object's prototype instead.
fn set_own<'js>(o: &Object<'js>, key: &str, value: impl IntoJs<'js>) -> Result<()> {
    set_own_atom(o, key, key, value)
}

/// [`set_own`] with the key's atom already made from `name`.
fn set_own_atom<'js>(
    o: &Object<'js>,
    name: &str,
    key: impl IntoAtom<'js>,
    value: impl IntoJs<'js>,
) -> Result<()> {
    if name == "__proto__" {
        o.prop(
            key,
            Property::from(value).writable().enumerable().configurable(),
        )
    } else {
        o.set(key, value)
    }
}

pub fn to_js<'js>(ctx: &Ctx<'js>, v: &serde_json::Value) -> Result<Value<'js>> {
    Ok(match v {
        serde_json::Value::Null => Value::new_null(ctx.clone()),
        serde_json::Value::Bool(b) => Value::new_bool(ctx.clone(), *b),
        serde_json::Value::Number(n) => match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
            Some(i) => Value::new_int(ctx.clone(), i),
            None => Value::new_float(ctx.clone(), n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => rquickjs::String::from_str(ctx.clone(), s)?.into_value(),
        serde_json::Value::Array(items) => {
            let a = Array::new(ctx.clone())?;
            for (i, item) in items.iter().enumerate() {
                a.set(i, to_js(ctx, item)?)?;
            }
            a.into_value()
        }
        serde_json::Value::Object(map) => {
            let o = Object::new(ctx.clone())?;
            for (k, item) in map {
                set_own(&o, k, to_js(ctx, item)?)?;
            }
            o.into_value()
        }
    })
}

/// A result as JSON; `None` for what `JSON.stringify` leaves out (`undefined`, functions).
pub fn from_js(
    v: &Value<'_>,
    depth: usize,
) -> std::result::Result<Option<serde_json::Value>, String> {
    if depth > MAX_DEPTH {
        return Err("the result is nested too deeply (or has a cycle)".into());
    }
    if v.is_undefined() || v.is_function() || v.is_symbol() {
        return Ok(None);
    }
    if v.is_null() {
        return Ok(Some(serde_json::Value::Null));
    }
    if let Some(b) = v.as_bool() {
        return Ok(Some(serde_json::Value::Bool(b)));
    }
    if let Some(i) = v.as_int() {
        return Ok(Some(serde_json::Value::Number(i.into())));
    }
    if let Some(f) = v.as_float() {
        let n = if f.fract() == 0.0 && f.abs() < 9.0e15 {
            Number::from(f as i64)
        } else {
            // NaN and infinities are `null` in JSON.
            return Ok(Some(
                Number::from_f64(f).map_or(serde_json::Value::Null, serde_json::Value::Number),
            ));
        };
        return Ok(Some(serde_json::Value::Number(n)));
    }
    if let Some(s) = v.as_string() {
        return Ok(Some(serde_json::Value::String(
            s.to_string().map_err(|e| e.to_string())?,
        )));
    }
    if let Some(a) = v.as_array() {
        let mut out = Vec::with_capacity(a.len());
        for i in 0..a.len() {
            let item: Value = a.get(i).map_err(|e| e.to_string())?;
            out.push(from_js(&item, depth + 1)?.unwrap_or(serde_json::Value::Null));
        }
        return Ok(Some(serde_json::Value::Array(out)));
    }
    if let Some(o) = v.as_object() {
        let mut out = Map::new();
        for prop in o.props::<String, Value>() {
            let (k, item) = prop.map_err(|e| e.to_string())?;
            if let Some(item) = from_js(&item, depth + 1)? {
                out.insert(k, item);
            }
        }
        return Ok(Some(serde_json::Value::Object(out)));
    }
    Ok(None)
}

/// The names every entry has, made once per call rather than looked up per entry.
struct Names<'js> {
    value: Atom<'js>,
    multi_value: Atom<'js>,
}

impl<'js> Names<'js> {
    fn new(ctx: &Ctx<'js>) -> Result<Self> {
        Ok(Self {
            value: Atom::from_str(ctx.clone(), "value")?,
            multi_value: Atom::from_str(ctx.clone(), "multiValue")?,
        })
    }
}

/// One of the request's `querystring`, `headers` and `cookies` objects as built, kept to
/// tell afterwards whether the function changed it (one it left alone is not read back).
pub struct BuiltGroup<'js> {
    object: Object<'js>,
    /// Each entry's name, its object and the `value` it was given.
    entries: Vec<(Atom<'js>, Object<'js>, Value<'js>)>,
    /// Some entry has `multiValue`: the group is always read back.
    multi_valued: bool,
}

impl<'js> BuiltGroup<'js> {
    /// Whether `now` (what the result holds in this group's place) is the object built, with
    /// the same entries holding the same values: every name, entry object and `value` string
    /// identical (JavaScript strings are immutable, so identity is equality), nothing added.
    fn unchanged(&self, now: &Value<'js>, names: &Names<'js>) -> bool {
        if self.multi_valued || now != self.object.as_value() {
            return false;
        }
        self.object.len() == self.entries.len()
            && self.entries.iter().all(|(name, entry, value)| {
                self.object
                    .get::<_, Value>(name.clone())
                    .is_ok_and(|e| &e == entry.as_value())
                    && entry
                        .get::<_, Value>(names.value.clone())
                        .is_ok_and(|v| &v == value)
                    && entry
                        .get::<_, Value>(names.multi_value.clone())
                        .is_ok_and(|m| m.is_undefined())
            })
    }
}

/// `{value, multiValue?}` entries of `groups`, as an object.
fn groups_js<'js>(ctx: &Ctx<'js>, names: &Names<'js>, groups: Groups) -> Result<BuiltGroup<'js>> {
    let o = Object::new(ctx.clone())?;
    let mut entries = Vec::with_capacity(groups.len());
    let mut multi_valued = false;
    for (name, values) in groups {
        let entry = Object::new(ctx.clone())?;
        let value = rquickjs::String::from_str(ctx.clone(), &values[0])?.into_value();
        entry.set(names.value.clone(), value.clone())?;
        if values.len() > 1 {
            multi_valued = true;
            let multi = Array::new(ctx.clone())?;
            for (i, v) in values.iter().enumerate() {
                let item = Object::new(ctx.clone())?;
                item.set(names.value.clone(), v.as_str())?;
                multi.set(i, item)?;
            }
            entry.set(names.multi_value.clone(), multi)?;
        }
        let atom = Atom::from_str(ctx.clone(), &name)?;
        set_own_atom(&o, &name, atom.clone(), entry.clone())?;
        entries.push((atom, entry, value));
    }
    Ok(BuiltGroup {
        object: o,
        entries,
        multi_valued,
    })
}

/// What a viewer-request event's request was built from, to read the result against.
pub struct BuiltRequest<'js> {
    names: Names<'js>,
    querystring: BuiltGroup<'js>,
    headers: BuiltGroup<'js>,
    cookies: BuiltGroup<'js>,
}

/// The viewer-request event, built in JavaScript by `make` (the prelude's maker: the same
/// object as [`crate::event::viewer_request_event`] makes), and what it was built from.
pub fn request_event_js<'js>(
    ctx: &Ctx<'js>,
    make: &rquickjs::Function<'js>,
    e: &EventContext<'_>,
    r: &ViewerRequest<'_>,
) -> Result<(Value<'js>, BuiltRequest<'js>)> {
    let names = Names::new(ctx)?;
    let querystring = groups_js(ctx, &names, query_groups(r.query))?;
    let headers = groups_js(ctx, &names, header_groups(r.headers, &http::header::COOKIE))?;
    let cookies = groups_js(ctx, &names, cookie_groups(r.headers))?;
    let event: Value = make.call((
        Flat((
            e.distribution_domain,
            e.distribution_id,
            e.event_type.name(),
            e.request_id,
            r.viewer_ip.unwrap_or(""),
        )),
        Flat((
            r.method,
            r.uri,
            querystring.object.clone(),
            headers.object.clone(),
            cookies.object.clone(),
        )),
    ))?;
    Ok((
        event,
        BuiltRequest {
            names,
            querystring,
            headers,
            cookies,
        },
    ))
}

/// A value as the text a JSON string or number would give.
fn text_of(v: &Value<'_>) -> Option<String> {
    if let Some(s) = v.as_string() {
        return s.to_string().ok();
    }
    match from_js(v, 0).ok()?? {
        serde_json::Value::Null => Some(String::new()),
        other => Some(other.to_string()),
    }
}

/// The entries of a result's `headers`, `querystring` or `cookies` object.
fn groups_from_js<'js>(v: &Value<'js>, names: &Names<'js>) -> Groups {
    let Some(o) = v.as_object() else {
        return Groups::new();
    };
    let mut out = Groups::new();
    for prop in o.props::<String, Value>() {
        let Ok((name, entry)) = prop else { continue };
        let Some(entry) = entry.as_object() else {
            continue;
        };
        let multi: Option<Array> = entry.get(names.multi_value.clone()).ok();
        let values: Vec<String> = match multi.filter(|m| !m.is_empty()) {
            Some(m) => (0..m.len())
                .filter_map(|i| m.get::<Object>(i).ok())
                .map(|item| {
                    item.get::<_, Value>(names.value.clone())
                        .ok()
                        .and_then(|v| text_of(&v))
                        .unwrap_or_default()
                })
                .collect(),
            None => vec![
                entry
                    .get::<_, Value>(names.value.clone())
                    .ok()
                    .and_then(|v| text_of(&v))
                    .unwrap_or_default(),
            ],
        };
        out.push((name, values));
    }
    out
}

/// What a viewer-request function's result means, read from JavaScript against what its event
/// was `built` from: a request is read directly, and of its `querystring`, `headers` and
/// `cookies` only those the function changed (the others are the viewer's request's, as
/// `original` has them); a response (rare: it has `statusCode`) goes through JSON as
/// [`crate::event::request_outcome`] reads it.
pub fn request_outcome_js<'js>(
    v: &Value<'js>,
    built: &BuiltRequest<'js>,
    original: &ViewerRequest<'_>,
) -> std::result::Result<RequestOutcome, FunctionError> {
    let Some(o) = v.as_object() else {
        return Err(bad("the handler must return the request or a response"));
    };
    if o.contains_key("statusCode").unwrap_or(false) {
        let json = from_js(v, 0)
            .map_err(FunctionError::BadOutput)?
            .unwrap_or(serde_json::Value::Null);
        return request_outcome(&json);
    }
    let uri = o
        .get::<_, Value>("uri")
        .ok()
        .and_then(|u| u.as_string().and_then(|s| s.to_string().ok()));
    let names = &built.names;
    let changed = |now: &Value<'js>, group: &BuiltGroup<'js>| {
        (!group.unchanged(now, names)).then(|| groups_from_js(now, names))
    };
    let member = |name: &str| o.get::<_, Value>(name).ok();
    // `querystring` may come back as text, as AWS's own examples return it.
    let query = member("querystring").and_then(|now| match now.as_string() {
        Some(text) => Some(QueryString::from_text(
            &text.to_string().unwrap_or_default(),
        )),
        None => changed(&now, &built.querystring).map(QueryString::Entries),
    });
    Ok(RequestOutcome::Continue(request_change_from(
        uri,
        query,
        member("headers").and_then(|now| changed(&now, &built.headers)),
        member("cookies").and_then(|now| changed(&now, &built.cookies)),
        original,
    )?))
}
