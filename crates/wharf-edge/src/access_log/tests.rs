use std::io::Read as _;
use std::sync::Mutex;
use std::sync::mpsc;

use super::delivery::{AccessLogs, DeliveryConfig, LogSink};
use super::*;
use crate::pipeline::ViewerHttps;

fn logging(id: &str, include_cookies: bool) -> Arc<Logging> {
    Arc::new(Logging {
        distribution_id: id.into(),
        bucket: "logs".into(),
        prefix: "cf/".into(),
        include_cookies,
        domain_name: format!("{}.localhost", id.to_ascii_lowercase()),
    })
}

/// 2019-11-14 20:36:12 UTC.
const NOV_14: u64 = 1_573_763_772;

fn record() -> LogRecord {
    LogRecord {
        logging: logging("EMLARXS9EXAMPLE", true),
        finished: UNIX_EPOCH + Duration::from_secs(NOV_14),
        request_id: "Zx2Q-id_0==".into(),
        client: Some("192.0.2.10:52311".parse().unwrap()),
        method: Method::GET,
        uri: "/images/a%20cat.jpg?size=large&x=%2F".parse().unwrap(),
        version: Version::HTTP_2,
        tls: Some(ViewerHttps {
            protocol: "TLSv1.3",
            cipher: "TLS_AES_128_GCM_SHA256",
            resumed: false,
            fingerprints: None,
        }),
        viewer: ViewerFields {
            host: Some(HeaderValue::from_static("www.example.com")),
            referer: None,
            user_agent: Some(HeaderValue::from_static("Mozilla/5.0 (X11; \"Linux\")\tx")),
            cookie: Some(HeaderValue::from_static("a=1; b=2")),
            x_forwarded_for: None,
        },
        request_bytes: 120,
        status: 206,
        response_bytes: 1_500,
        result: ResultType::Hit,
        response_result: ResultType::Hit,
        detailed_result: "Hit",
        time_taken: Duration::from_millis(82),
        time_to_first_byte: Duration::from_micros(1_400),
        content_type: Some(HeaderValue::from_static("image/jpeg")),
        content_length: Some(HeaderValue::from_static("100")),
        range: Some((0, 99)),
    }
}

fn fields(r: &LogRecord) -> Vec<String> {
    let mut line = Vec::new();
    r.write_line("IAD89-C1", &mut Stamp::default(), &mut line);
    let line = String::from_utf8(line).unwrap();
    assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
    line.trim_end_matches('\n')
        .split('\t')
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_line_has_cloudfronts_33_fields_in_order() {
    let names: Vec<&str> = FIELDS_LINE
        .strip_prefix("#Fields: ")
        .unwrap()
        .split(' ')
        .collect();
    assert_eq!(names.len(), 33);
    let f = fields(&record());
    assert_eq!(f.len(), 33);
    let field = |name: &str| f[names.iter().position(|n| *n == name).unwrap()].as_str();
    let expected = [
        ("date", "2019-11-14"),
        ("time", "20:36:12"),
        ("x-edge-location", "IAD89-C1"),
        ("sc-bytes", "1500"),
        ("c-ip", "192.0.2.10"),
        ("cs-method", "GET"),
        ("cs(Host)", "emlarxs9example.localhost"),
        ("cs-uri-stem", "/images/a%2520cat.jpg"),
        ("sc-status", "206"),
        ("cs(Referer)", "-"),
        ("cs(User-Agent)", "Mozilla/5.0%20(X11;%20%22Linux%22)%09x"),
        ("cs-uri-query", "size=large&x=%252F"),
        ("cs(Cookie)", "a=1;%20b=2"),
        ("x-edge-result-type", "Hit"),
        ("x-edge-request-id", "Zx2Q-id_0=="),
        ("x-host-header", "www.example.com"),
        ("cs-protocol", "https"),
        ("cs-bytes", "120"),
        ("time-taken", "0.082"),
        ("x-forwarded-for", "-"),
        ("ssl-protocol", "TLSv1.3"),
        ("ssl-cipher", "TLS_AES_128_GCM_SHA256"),
        ("x-edge-response-result-type", "Hit"),
        ("cs-protocol-version", "HTTP/2.0"),
        ("fle-status", "-"),
        ("fle-encrypted-fields", "-"),
        ("c-port", "52311"),
        ("time-to-first-byte", "0.001"),
        ("x-edge-detailed-result-type", "Hit"),
        ("sc-content-type", "image/jpeg"),
        ("sc-content-len", "100"),
        ("sc-range-start", "0"),
        ("sc-range-end", "99"),
    ];
    for (name, value) in expected {
        assert_eq!(field(name), value, "{name}");
    }
}

#[test]
fn absent_values_are_hyphens_and_cookies_need_include_cookies() {
    let mut r = record();
    r.logging = logging("E1", false);
    r.tls = None;
    r.client = None;
    r.uri = "/".parse().unwrap();
    r.version = Version::HTTP_11;
    r.viewer = ViewerFields {
        cookie: Some(HeaderValue::from_static("a=1")),
        ..ViewerFields::default()
    };
    r.content_type = None;
    r.content_length = None;
    r.range = None;
    r.status = 0;
    let f = fields(&r);
    assert_eq!(f[4], "-", "c-ip");
    assert_eq!(f[8], "000", "sc-status");
    // An IPv6 viewer, and the ends of the IPv4 octets.
    r.client = Some("[2001:db8::7]:443".parse().unwrap());
    assert_eq!(
        (fields(&r)[4].as_str(), fields(&r)[26].as_str()),
        ("2001:db8::7", "443")
    );
    r.client = Some("0.10.255.100:1".parse().unwrap());
    assert_eq!(fields(&r)[4], "0.10.255.100");
    assert_eq!(
        &f[9..13],
        ["-", "-", "-", "-"],
        "referer, agent, query, cookie"
    );
    assert_eq!(f[15], "-", "x-host-header");
    assert_eq!(f[16], "http");
    assert_eq!((f[20].as_str(), f[21].as_str()), ("-", "-"), "ssl");
    assert_eq!(f[23], "HTTP/1.1");
    assert_eq!(f[26], "-", "c-port");
    assert_eq!(&f[29..], ["-", "-", "-", "-"]);
}

#[test]
fn non_ascii_bytes_are_percent_encoded() {
    let mut r = record();
    r.viewer.referer = Some(HeaderValue::from_bytes("https://ex.com/é\\".as_bytes()).unwrap());
    assert_eq!(fields(&r)[9], "https://ex.com/%C3%A9%5C");
}

#[test]
fn files_are_named_as_cloudfront_names_them() {
    let at = |s: u64| UNIX_EPOCH + Duration::from_secs(s);
    assert_eq!(
        object_key("cf/", "EMLARXS9EXAMPLE", at(NOV_14), "RT4KCN4S"),
        "cf/EMLARXS9EXAMPLE.2019-11-14-20.RT4KCN4S.gz"
    );
    assert_eq!(object_key("", "E1", at(0), "U"), "E1.1970-01-01-00.U.gz");
    // 2024-02-29 23:59:59 and the second after.
    assert_eq!(
        object_key("", "E1", at(1_709_251_199), "U"),
        "E1.2024-02-29-23.U.gz"
    );
    assert_eq!(
        object_key("", "E1", at(1_709_251_200), "U"),
        "E1.2024-03-01-00.U.gz"
    );
    assert_eq!(hour_of(at(NOV_14)), NOV_14 - 36 * 60 - 12);
}

/// A sink that keeps what it is given, and can be made to wait inside `deliver`.
#[derive(Debug, Default)]
struct Kept {
    files: Mutex<Vec<(String, String, Vec<u8>)>>,
    gate: Mutex<Option<(mpsc::Sender<()>, mpsc::Receiver<()>)>>,
}

impl LogSink for Kept {
    fn deliver(&self, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), String> {
        if let Some((entered, release)) = self.gate.lock().unwrap().take() {
            entered.send(()).unwrap();
            release.recv().unwrap();
        }
        self.files
            .lock()
            .unwrap()
            .push((bucket.into(), key.into(), body));
        Ok(())
    }
}

fn start(sink: Arc<Kept>, queue: usize) -> AccessLogs {
    let mut registry = prometheus_client::registry::Registry::default();
    let cache = crate::cache::Cache::open(&crate::cache::CacheConfig {
        memory_bytes: 1 << 20,
        disk_bytes: 0,
        dir: None,
    })
    .unwrap();
    let metrics = crate::metrics::EdgeMetrics::register(&mut registry, cache);
    AccessLogs::start(
        sink,
        DeliveryConfig {
            interval: Duration::from_secs(3600),
            queue,
            edge_location: "IAD89-C1".into(),
        },
        metrics,
    )
    .unwrap()
}

fn gunzip(body: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(body)
        .read_to_string(&mut text)
        .unwrap();
    text
}

#[test]
fn files_per_distribution_and_hour_are_delivered_on_flush() {
    let sink = Arc::new(Kept::default());
    let logs = start(sink.clone(), 16);
    let mut other = record();
    other.logging = logging("E2OTHER", false);
    let mut next_hour = record();
    next_hour.finished += Duration::from_secs(3600);
    for r in [record(), record(), other, next_hour] {
        assert!(logs.submit(Box::new(r)));
    }
    logs.flush();
    let mut files = sink.files.lock().unwrap().clone();
    files.sort_by(|a, b| a.1.cmp(&b.1));
    let keys: Vec<&str> = files.iter().map(|f| f.1.as_str()).collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(keys[0].starts_with("cf/E2OTHER.2019-11-14-20."));
    assert!(keys[1].starts_with("cf/EMLARXS9EXAMPLE.2019-11-14-20."));
    assert!(keys[2].starts_with("cf/EMLARXS9EXAMPLE.2019-11-14-21."));
    for k in &keys {
        let unique = k.rsplit('.').nth(1).unwrap();
        assert!(unique.len() == 8 && unique.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
    assert!(files.iter().all(|f| f.0 == "logs"));
    let text = gunzip(&files[1].2);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0], VERSION_LINE);
    assert_eq!(lines[1], FIELDS_LINE);
    let mut expected = Vec::new();
    record().write_line("IAD89-C1", &mut Stamp::default(), &mut expected);
    assert_eq!(lines[2], String::from_utf8(expected).unwrap().trim_end());
    // Nothing is left open: a second flush delivers nothing.
    logs.flush();
    assert_eq!(sink.files.lock().unwrap().len(), 3);
    // Shutdown delivers what came since.
    assert!(logs.submit(Box::new(record())));
    logs.shutdown();
    assert_eq!(sink.files.lock().unwrap().len(), 4);
    assert!(!logs.submit(Box::new(record())), "stopped");
}

#[test]
fn interleaved_distributions_keep_each_files_lines_in_order() {
    let sink = Arc::new(Kept::default());
    let logs = start(sink.clone(), 16);
    let (a, b) = (logging("EAAAA", false), logging("EBBBB", false));
    for (logging, id) in [(&a, "a1"), (&b, "b1"), (&a, "a2"), (&a, "a3"), (&b, "b2")] {
        let mut r = record();
        r.logging = logging.clone();
        r.request_id = id.into();
        assert!(logs.submit(Box::new(r)));
    }
    logs.flush();
    let files = sink.files.lock().unwrap().clone();
    assert_eq!(files.len(), 2);
    for (prefix, ids) in [
        ("cf/EAAAA.", vec!["a1", "a2", "a3"]),
        ("cf/EBBBB.", vec!["b1", "b2"]),
    ] {
        let file = files.iter().find(|f| f.1.starts_with(prefix)).unwrap();
        let text = gunzip(&file.2);
        let got: Vec<&str> = text
            .lines()
            .skip(2)
            .map(|l| l.split('\t').nth(14).unwrap())
            .collect();
        assert_eq!(got, ids);
    }
}

#[test]
fn a_full_queue_drops_lines_instead_of_waiting() {
    let sink = Arc::new(Kept::default());
    let (entered_tx, entered_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    *sink.gate.lock().unwrap() = Some((entered_tx, release_rx));
    let logs = Arc::new(start(sink.clone(), 1));
    assert!(logs.submit(Box::new(record())));
    // The delivery thread is held inside the sink...
    let flusher = {
        let logs = logs.clone();
        std::thread::spawn(move || logs.flush())
    };
    entered_rx.recv().unwrap();
    // ...so the queue (one slot) fills, and the next record is refused at once.
    assert!(logs.submit(Box::new(record())));
    assert!(!logs.submit(Box::new(record())));
    release_tx.send(()).unwrap();
    flusher.join().unwrap();
    logs.shutdown();
    let files = sink.files.lock().unwrap();
    let lines: usize = files.iter().map(|f| gunzip(&f.2).lines().count() - 2).sum();
    assert_eq!(lines, 2);
}
