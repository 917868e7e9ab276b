// What CloudFront Functions give a function besides the language: `console.log`, and the
// modules `require` returns (crypto, querystring, buffer in 2.0, cloudfront). Runs once per
// compiled function, before its code. `__wharf` holds the native helpers (Rust) and the
// runtime's version; it is removed from the global object before the function's code runs.
// It answers the function that makes a viewer-request event.
(function (native, version) {
  "use strict";
  var show = function (v) {
    if (typeof v === "string") return v;
    if (v instanceof Error) return String(v);
    try { return JSON.stringify(v); } catch (e) { return String(v); }
  };
  globalThis.console = {
    log: function () { native.log(Array.prototype.map.call(arguments, show).join(" ")); }
  };
  console.info = console.warn = console.error = console.debug = console.log;

  // Bytes as a JS string of char codes 0-255 ("byte string"), as cloudfront-js-1.0 handles
  // binary data; text is UTF-8.
  var utf8 = function (s) { return unescape(encodeURIComponent(s)); };

  var Buffer = null;
  if (version >= 2) {
    Buffer = function () { throw new TypeError("use Buffer.from or Buffer.alloc"); };
    var wrap = function (bytes) {
      var u = new Uint8Array(bytes.length);
      for (var i = 0; i < bytes.length; i++) u[i] = bytes.charCodeAt(i) & 255;
      Object.setPrototypeOf(u, Buffer.prototype);
      return u;
    };
    var bytesOf = function (u) {
      var s = "";
      for (var i = 0; i < u.length; i++) s += String.fromCharCode(u[i]);
      return s;
    };
    Buffer.prototype = Object.create(Uint8Array.prototype);
    Buffer.prototype.constructor = Buffer;
    Buffer.from = function (v, enc) {
      if (typeof v === "string") return wrap(native.decode(v, enc || "utf8"));
      if (v instanceof Uint8Array || Array.isArray(v)) {
        var u = new Uint8Array(v.length);
        for (var i = 0; i < v.length; i++) u[i] = v[i] & 255;
        Object.setPrototypeOf(u, Buffer.prototype);
        return u;
      }
      throw new TypeError("Buffer.from takes a string, an array or a Buffer");
    };
    Buffer.alloc = function (n, fill) {
      var u = new Uint8Array(n);
      if (fill !== undefined) u.fill(typeof fill === "number" ? fill : 0);
      Object.setPrototypeOf(u, Buffer.prototype);
      return u;
    };
    Buffer.isBuffer = function (b) { return b instanceof Buffer; };
    Buffer.byteLength = function (s, enc) { return Buffer.from(s, enc).length; };
    Buffer.concat = function (list) {
      return wrap(list.map(function (b) { return bytesOf(b); }).join(""));
    };
    Buffer.prototype.toString = function (enc) { return native.encode(bytesOf(this), enc || "utf8"); };
    Buffer.prototype.equals = function (o) { return bytesOf(this) === bytesOf(o); };
    Buffer.prototype.slice = Buffer.prototype.subarray = function (a, b) {
      return wrap(bytesOf(this).slice(a, b));
    };
    Buffer.prototype.toJSON = function () {
      return { type: "Buffer", data: Array.prototype.slice.call(this) };
    };
    Buffer.__bytes = bytesOf;
    Buffer.__wrap = wrap;
    globalThis.Buffer = Buffer;
  }
  var toBytes = function (data) {
    if (Buffer && data instanceof Uint8Array) return Buffer.__bytes(data);
    if (typeof data !== "string") throw new TypeError("data must be a string" + (Buffer ? " or a Buffer" : ""));
    return utf8(data);
  };
  var output = function (bytes, enc) {
    if (enc) return native.encode(bytes, enc);
    return Buffer ? Buffer.__wrap(bytes) : bytes;
  };

  var digester = function (alg, key) {
    var parts = [];
    var d = {
      update: function (data, enc) {
        parts.push(enc && typeof data === "string" ? native.decode(data, enc) : toBytes(data));
        return d;
      },
      digest: function (enc) {
        var bytes = key === undefined
          ? native.hash(alg, parts.join(""))
          : native.hmac(alg, key, parts.join(""));
        return output(bytes, enc);
      }
    };
    return d;
  };
  var crypto = {
    createHash: function (alg) { native.checkAlg(alg); return digester(alg); },
    createHmac: function (alg, key) { native.checkAlg(alg); return digester(alg, toBytes(key)); }
  };

  var querystring = {
    escape: function (s) { return encodeURIComponent(s); },
    unescape: function (s) {
      try { return decodeURIComponent(String(s).replace(/\+/g, " ")); } catch (e) { return s; }
    },
    parse: function (str, sep, eq, options) {
      sep = sep || "&"; eq = eq || "=";
      var dec = (options && options.decodeURIComponent) || querystring.unescape;
      var out = {};
      if (typeof str !== "string" || str.length === 0) return out;
      str.split(sep).forEach(function (pair) {
        if (pair === "") return;
        var i = pair.indexOf(eq);
        var k = dec(i >= 0 ? pair.slice(0, i) : pair);
        var v = i >= 0 ? dec(pair.slice(i + eq.length)) : "";
        if (Object.prototype.hasOwnProperty.call(out, k)) {
          if (Array.isArray(out[k])) out[k].push(v); else out[k] = [out[k], v];
        } else out[k] = v;
      });
      return out;
    },
    stringify: function (obj, sep, eq, options) {
      sep = sep || "&"; eq = eq || "=";
      var enc = (options && options.encodeURIComponent) || querystring.escape;
      var parts = [];
      Object.keys(obj || {}).forEach(function (k) {
        var v = obj[k];
        (Array.isArray(v) ? v : [v]).forEach(function (x) {
          parts.push(enc(k) + eq + enc(x === undefined || x === null ? "" : String(x)));
        });
      });
      return parts.join(sep);
    }
  };
  querystring.decode = querystring.parse;
  querystring.encode = querystring.stringify;

  var cloudfront = {
    // The associated KeyValueStore (`cf.kvs()` or `cf.kvs(ID)`): async reads of its keys.
    kvs: function (id) {
      // The handle is usually made at the top level, before any request: the store is
      // checked when it is read.
      var values = function () {
        var store = native.kvsId();
        if (store === null || store === undefined) {
          throw new Error("This function is not associated with a KeyValueStore");
        }
        if (id !== undefined && id !== null && id !== store) {
          throw new Error("The KeyValueStore " + id + " is not associated with this function");
        }
      };
      return {
        get: async function (key, options) {
          values();
          var v = native.kvsGet(String(key));
          if (v === null || v === undefined) throw new Error("Key " + key + " not found");
          var format = (options && options.format) || "string";
          if (format === "json") return JSON.parse(v);
          if (format === "bytes") return Buffer ? Buffer.from(v, "utf8") : utf8(v);
          return v;
        },
        exists: async function (key) {
          values();
          var v = native.kvsGet(String(key));
          return v !== null && v !== undefined;
        },
        meta: async function () { values(); return { keyCount: native.kvsCount() }; }
      };
    }
  };
  // The origin helpers: what they ask is checked and applied once the function returns.
  ["updateRequestOrigin", "selectRequestOriginById", "createRequestOriginGroup"].forEach(function (name) {
    cloudfront[name] = function (params) {
      native.origin(name, params === undefined ? "null" : JSON.stringify(params));
    };
  });

  // Restricted features (both runtimes). Dynamic code evaluation: eval() and the Function
  // constructor throw. Date: every way to ask the current time answers the time the
  // invocation started, for the whole invocation.
  var noDynamicCode = function () {
    throw new EvalError("Dynamic code evaluation (eval, new Function) is not supported");
  };
  globalThis.eval = noDynamicCode;
  var RealFunction = Function;
  var NoFunction = function Function() { noDynamicCode(); };
  NoFunction.prototype = RealFunction.prototype;
  Object.defineProperty(RealFunction.prototype, "constructor", { value: NoFunction, writable: true, configurable: true });
  globalThis.Function = NoFunction;
  [async function () {}, function* () {}, async function* () {}].forEach(function (f) {
    Object.defineProperty(Object.getPrototypeOf(f), "constructor", { value: NoFunction, writable: true, configurable: true });
  });
  var RealDate = Date;
  var construct = Reflect.construct;
  var argsOf = Array.prototype.slice;
  var started = function () { return native.startedAt(); };
  var FrozenDate = function Date() {
    if (!new.target) return new RealDate(started()).toString();
    if (arguments.length === 0) return construct(RealDate, [started()], new.target);
    return construct(RealDate, argsOf.call(arguments), new.target);
  };
  FrozenDate.prototype = RealDate.prototype;
  FrozenDate.now = started;
  FrozenDate.parse = RealDate.parse;
  FrozenDate.UTC = RealDate.UTC;
  Object.defineProperty(RealDate.prototype, "constructor", { value: FrozenDate, writable: true, configurable: true });
  globalThis.Date = FrozenDate;

  // cloudfront-js-1.0's byte-string methods (not in 2.0, which has Buffer).
  if (version < 2) {
    var define = function (o, name, f) {
      Object.defineProperty(o, name, { value: f, writable: true, configurable: true });
    };
    var part = function (s, start, end) { return String(s).slice(start === undefined ? 0 : start, end); };
    var escape_ = escape, decodeURIComponent_ = decodeURIComponent;
    // From an array of octets, or a string in `hex`, `base64` or `base64url`.
    define(String, "bytesFrom", function (v, enc) {
      if (typeof v === "string") {
        if (enc !== "hex" && enc !== "base64" && enc !== "base64url") {
          throw new TypeError("String.bytesFrom: encoding must be hex, base64 or base64url");
        }
        return native.decode(v, enc);
      }
      var s = "";
      for (var i = 0; i < v.length; i++) s += String.fromCharCode(v[i] & 255);
      return s;
    });
    // Each byte as the code point of the same value.
    define(String.prototype, "fromBytes", function (start, end) { return part(this, start, end); });
    // A UTF-8 byte string decoded; null when it is not valid UTF-8.
    define(String.prototype, "fromUTF8", function (start, end) {
      try { return decodeURIComponent_(escape_(part(this, start, end))); } catch (e) { return null; }
    });
    // A byte string of the characters; null when one is above 255.
    define(String.prototype, "toBytes", function (start, end) {
      var s = part(this, start, end);
      for (var i = 0; i < s.length; i++) if (s.charCodeAt(i) > 255) return null;
      return s;
    });
    // The UTF-8 encoding, as a byte string.
    define(String.prototype, "toUTF8", function (start, end) { return utf8(part(this, start, end)); });
  }

  var modules = { crypto: crypto, querystring: querystring };
  // The `buffer` and `cloudfront` modules (KeyValueStore, origin helpers) are runtime 2.0's.
  if (version >= 2) {
    modules.buffer = { Buffer: Buffer };
    modules.cloudfront = cloudfront;
  }
  globalThis.require = function (name) {
    if (Object.prototype.hasOwnProperty.call(modules, name)) return modules[name];
    throw new Error("Cannot find module '" + name + "'");
  };

  // A viewer-request event, made at once: an object literal costs a fraction of setting its
  // members one by one from Rust (and, being a literal, calls no setter the code may add).
  return function (domain, id, type, requestId, ip, method, uri, querystring, headers, cookies) {
    return {
      version: "1.0",
      context: { distributionDomainName: domain, distributionId: id, eventType: type, requestId: requestId },
      viewer: { ip: ip },
      request: { method: method, uri: uri, querystring: querystring, headers: headers, cookies: cookies }
    };
  };
})(__wharf, __wharf.version);
