//! Differential fuzzing of the DataRowRecord reader against the real libasherah (env
//! `ASHERAH_GO_LIBRARY`), over one throw-away PostgreSQL metastore and the static KMS.
//!
//! A record written by each core is mutated the ways JSON allows and writers differ: field
//! names in other cases (and `K` as U+212A), fields repeated with other values, dropped or
//! `null`, `[]byte` fields as arrays of bytes, line breaks, spaces and spare bits in base64,
//! numbers spelled otherwise (`-0`, `1.0`, `"5"`), unknown fields (some nested around Go's
//! limit of 10,000 levels), whitespace between tokens.
//! Go and the native core then decrypt the same text and must agree: both refuse it, or both
//! return the original plaintext. `GO_DIFF_CASES` sets the number of cases per writer
//! (default 1,000), `GO_DIFF_SEED` the seed (a byte, default 20). libasherah is a process-wide singleton, so this binary holds one test.

mod common;

use std::time::Duration;

use asherah_native::{Asherah, MetastoreConfig};
use base64::Engine as _;
use common::golib::GoAsherah;
use common::interop::{self, Store};
use common::{go_library, skip, PgServer};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};

const PARTITION: &str = "differential";
const PLAINTEXT: &[u8] = b"tamper-evident payload";

/// A JSON value kept as written: an object's fields in order (repeats allowed), or the raw
/// text of anything else.
#[derive(Clone, Debug)]
enum J {
    Obj(Vec<(String, J)>),
    Raw(String),
}

impl J {
    fn parse(v: &serde_json::Value) -> J {
        match v {
            serde_json::Value::Object(m) => {
                J::Obj(m.iter().map(|(k, v)| (k.clone(), J::parse(v))).collect())
            }
            other => J::Raw(other.to_string()),
        }
    }

    fn write(&self, ws: &[&str], n: &mut usize, out: &mut String) {
        fn gap(ws: &[&str], n: &mut usize, out: &mut String) {
            *n += 1;
            out.push_str(ws[*n % ws.len()]);
        }
        match self {
            J::Raw(t) => out.push_str(t),
            J::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    gap(ws, n, out);
                    out.push_str(&serde_json::to_string(k).unwrap());
                    out.push(':');
                    gap(ws, n, out);
                    v.write(ws, n, out);
                }
                gap(ws, n, out);
                out.push('}');
            }
        }
    }

    /// How many objects the tree holds.
    fn count_objects(&self) -> usize {
        match self {
            J::Obj(fields) => 1 + fields.iter().map(|(_, v)| v.count_objects()).sum::<usize>(),
            J::Raw(_) => 0,
        }
    }

    /// The path (field indexes) to the `n`th object, depth first (the root is 0).
    fn path_to(&self, n: &mut usize, path: &mut Vec<usize>) -> bool {
        let J::Obj(fields) = self else { return false };
        if *n == 0 {
            return true;
        }
        *n -= 1;
        for (i, (_, v)) in fields.iter().enumerate() {
            path.push(i);
            if v.path_to(n, path) {
                return true;
            }
            path.pop();
        }
        false
    }

    /// The fields of the `n`th object, depth first (the root is 0).
    fn nth_object(&mut self, n: usize) -> Option<&mut Vec<(String, J)>> {
        let mut path = Vec::new();
        if !self.path_to(&mut n.clone(), &mut path) {
            return None;
        }
        let mut at = self;
        for i in path {
            let J::Obj(fields) = at else { return None };
            at = &mut fields[i].1;
        }
        match at {
            J::Obj(fields) => Some(fields),
            J::Raw(_) => None,
        }
    }
}

/// Values a repeated, replaced or unknown field may get.
const FRAGMENTS: &[&str] = &[
    "null",
    "\"AAAA\"",
    "\"!!\"",
    "\"\"",
    "0",
    "-0",
    "5",
    "1.5",
    "\"5\"",
    "true",
    "[]",
    "[1,2,3]",
    "[256]",
    "{}",
    "{\"KeyId\":\"x\"}",
    "{\"Created\":1}",
    "[[[[[[[[[[1]]]]]]]]]]",
];
const UNKNOWN_NAMES: &[&str] = &["Extra", "Keys", "Datum", "ID", "-", "Revoked", "created"];
const WHITESPACE: &[&[&str]] = &[&[""], &[" "], &["", "\n", " \t", "\r\n"]];

#[derive(Clone, Debug)]
enum Mutation {
    /// Letter cases of a field name (a bit per letter), `K` as U+212A when set.
    Rename(Index, Index, Vec<bool>, bool),
    Repeat(Index, Index, Index, bool),
    Drop(Index, Index),
    Replace(Index, Index, Index),
    ToArray(Index, Index),
    Base64Noise(Index, Index, Index, u8),
    Number(Index, Index, u8),
    Unknown(Index, Index, Index, Index),
    /// An unknown field holding arrays nested this deep (around Go's limit of 10,000 levels
    /// for the whole document).
    Deep(Index, Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let i = any::<Index>;
    prop_oneof![
        (
            i(),
            i(),
            prop::collection::vec(any::<bool>(), 16),
            any::<bool>()
        )
            .prop_map(|(o, f, c, k)| Mutation::Rename(o, f, c, k)),
        (i(), i(), i(), any::<bool>()).prop_map(|(o, f, v, b)| Mutation::Repeat(o, f, v, b)),
        (i(), i()).prop_map(|(o, f)| Mutation::Drop(o, f)),
        (i(), i(), i()).prop_map(|(o, f, v)| Mutation::Replace(o, f, v)),
        (i(), i()).prop_map(|(o, f)| Mutation::ToArray(o, f)),
        (i(), i(), i(), any::<u8>()).prop_map(|(o, f, p, k)| Mutation::Base64Noise(o, f, p, k)),
        (i(), i(), any::<u8>()).prop_map(|(o, f, k)| Mutation::Number(o, f, k)),
        (i(), i(), i(), i()).prop_map(|(o, p, n, v)| Mutation::Unknown(o, p, n, v)),
        (i(), i(), 9_995usize..10_001).prop_map(|(o, p, d)| Mutation::Deep(o, p, d)),
    ]
}

fn apply(tree: &mut J, m: &Mutation) {
    let (Mutation::Rename(o, ..)
    | Mutation::Repeat(o, ..)
    | Mutation::Drop(o, ..)
    | Mutation::Replace(o, ..)
    | Mutation::ToArray(o, ..)
    | Mutation::Base64Noise(o, ..)
    | Mutation::Number(o, ..)
    | Mutation::Unknown(o, ..)
    | Mutation::Deep(o, ..)) = m;
    let n = o.index(tree.count_objects());
    let Some(fields) = tree.nth_object(n) else {
        return;
    };
    if fields.is_empty() && !matches!(m, Mutation::Unknown(..) | Mutation::Deep(..)) {
        return;
    }
    match m {
        Mutation::Rename(_, f, cases, kelvin) => {
            let f = f.index(fields.len());
            let name: String = fields[f]
                .0
                .chars()
                .zip(cases.iter().chain(std::iter::repeat(&false)))
                .map(|(c, &up)| match c {
                    'k' | 'K' if *kelvin => '\u{212A}',
                    c if up => c.to_ascii_uppercase(),
                    c => c.to_ascii_lowercase(),
                })
                .collect();
            fields[f].0 = name;
        }
        Mutation::Repeat(_, f, v, before) => {
            let f = f.index(fields.len());
            let value = J::Raw(FRAGMENTS[v.index(FRAGMENTS.len())].to_owned());
            let copy = (fields[f].0.clone(), value);
            let at = if *before { f } else { f + 1 };
            fields.insert(at, copy);
        }
        Mutation::Drop(_, f) => {
            fields.remove(f.index(fields.len()));
        }
        Mutation::Replace(_, f, v) => {
            let f = f.index(fields.len());
            fields[f].1 = J::Raw(FRAGMENTS[v.index(FRAGMENTS.len())].to_owned());
        }
        Mutation::ToArray(_, f) => {
            let f = f.index(fields.len());
            if let J::Raw(t) = &fields[f].1 {
                if let Ok(s) = serde_json::from_str::<String>(t) {
                    if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(s) {
                        fields[f].1 = J::Raw(serde_json::to_string(&bytes).unwrap());
                    }
                }
            }
        }
        Mutation::Base64Noise(_, f, p, kind) => {
            let f = f.index(fields.len());
            if let J::Raw(t) = &fields[f].1 {
                if let Ok(mut s) = serde_json::from_str::<String>(t) {
                    if s.is_empty() {
                        return;
                    }
                    let at = p.index(s.len() + 1);
                    match kind % 8 {
                        0 => s.insert(at, '\n'),
                        1 => s.insert_str(at, "\r\n"),
                        2 => s.insert(at, ' '),
                        3 => s.insert(at, '\t'),
                        4 => s = s.trim_end_matches('=').to_owned(),
                        5 => s = s.replace('+', "-").replace('/', "_"),
                        _ => {
                            // Flip one of the bits after the last byte (if there are any).
                            let pad = s.len() - s.trim_end_matches('=').len();
                            if pad > 0 {
                                const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                                let i = s.len() - pad - 1;
                                if let Some(v) = A.iter().position(|&c| c == s.as_bytes()[i]) {
                                    let bit = 1 << (*kind as usize % if pad == 1 { 2 } else { 4 });
                                    let c = A[v ^ bit] as char;
                                    s.replace_range(i..=i, &c.to_string());
                                }
                            }
                        }
                    }
                    fields[f].1 = J::Raw(serde_json::to_string(&s).unwrap());
                }
            }
        }
        Mutation::Number(_, f, kind) => {
            let f = f.index(fields.len());
            if let J::Raw(t) = &fields[f].1 {
                if let Ok(n) = t.parse::<i64>() {
                    let spelled = match kind % 6 {
                        0 => "-0".to_owned(),
                        1 => format!("{n}.0"),
                        2 => format!("{n}e0"),
                        3 => format!("\"{n}\""),
                        4 => format!("{}", n + 60),
                        _ => "null".to_owned(),
                    };
                    fields[f].1 = J::Raw(spelled);
                }
            }
        }
        Mutation::Deep(_, p, d) => {
            let at = p.index(fields.len() + 1);
            let value = J::Raw(format!("{}{}", "[".repeat(*d), "]".repeat(*d)));
            fields.insert(at, ("Deep".to_owned(), value));
        }
        Mutation::Unknown(_, p, n, v) => {
            let at = p.index(fields.len() + 1);
            let name = UNKNOWN_NAMES[n.index(UNKNOWN_NAMES.len())].to_owned();
            let value = J::Raw(FRAGMENTS[v.index(FRAGMENTS.len())].to_owned());
            fields.insert(at, (name, value));
        }
    }
}

/// Sends the process's stderr to /dev/null while `f` runs (libasherah logs every failed
/// decrypt there: thousands of lines), then restores it.
fn quiet<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: dup/open/dup2/close on file descriptors this function owns, plus fd 2, which
    // is restored before returning; nothing else in this single-test binary writes to fd 2
    // concurrently except libasherah's logging, which may go to either file.
    unsafe {
        let saved = libc::dup(2);
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
        if saved >= 0 && null >= 0 {
            libc::dup2(null, 2);
        }
        let out = f();
        if saved >= 0 {
            libc::dup2(saved, 2);
            libc::close(saved);
        }
        if null >= 0 {
            libc::close(null);
        }
        out
    }
}

#[test]
fn go_and_native_read_the_same_records() {
    let Some(lib_path) = go_library("go_differential") else {
        return;
    };
    let pg = match PgServer::start() {
        Ok(pg) => pg,
        Err(why) => return skip("go_differential", &why),
    };
    let count_rows = |_: &str| 0;
    let store = Store {
        go_metastore: interop::go_rdbms("postgres", &pg.url),
        native: MetastoreConfig::from_connection_string(&pg.url).unwrap(),
        native_ca_file: None,
        count_rows: &count_rows,
    };
    let long = Duration::from_secs(3600);
    let native: Asherah = interop::native(&store, long, Duration::from_secs(3600));
    let go = GoAsherah::open(&lib_path).expect("dlopen libasherah");
    // Without session caching every Go decrypt starts from a cold intermediate-key cache.
    // With it, Go reads an IK Created of 0 (absent, null, -0) as "the latest IK" when that
    // key happens to be cached, and refuses it otherwise (appencryption's keyCache maps
    // Created 0 to the latest entry; its loader asks the metastore for version 0): a cache
    // artifact, which the native core does not copy (it always refuses).
    let mut config: serde_json::Value =
        serde_json::from_str(&interop::go_config(&store, long, long)).unwrap();
    config["EnableSessionCaching"] = serde_json::Value::Bool(false);
    assert_eq!(go.setup(&config.to_string()), 0, "SetupJson");
    let cases: u32 = std::env::var("GO_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);

    let seed: u8 = std::env::var("GO_DIFF_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let by_native = native.encrypt(PARTITION, PLAINTEXT).unwrap();
    let by_go = go.encrypt(PARTITION, PLAINTEXT).unwrap();
    let outcomes = [std::cell::Cell::new(0usize), std::cell::Cell::new(0)]; // [both refused, both read the original]
    for (writer, record) in [("native", by_native), ("go", by_go)] {
        let tree = J::parse(&serde_json::from_str(&record).unwrap());
        let strategy = (prop::collection::vec(mutation(), 1..4), 0..WHITESPACE.len());
        let mut runner = TestRunner::new_with_rng(
            Config {
                cases,
                failure_persistence: None,
                ..Config::default()
            },
            TestRng::from_seed(RngAlgorithm::ChaCha, &[seed; 32]),
        );
        let result = quiet(|| {
            runner.run(&strategy, |(mutations, ws)| {
                let mut t = tree.clone();
                for m in &mutations {
                    apply(&mut t, m);
                }
                let mut text = String::new();
                t.write(WHITESPACE[ws], &mut 0, &mut text);
                let g = go.decrypt(PARTITION, &text);
                let n = native.decrypt(PARTITION, text.as_bytes());
                match (&g, &n) {
                    (Err(_), Err(_)) => outcomes[0].set(outcomes[0].get() + 1),
                    (Ok(a), Ok(b)) if a == PLAINTEXT && b == PLAINTEXT => {
                        outcomes[1].set(outcomes[1].get() + 1)
                    }
                    _ => {
                        return Err(TestCaseError::fail(format!(
                            "{writer}'s record, mutated: {text}\n  go: {:?}\n  native: {:?}",
                            g.map(|v| String::from_utf8_lossy(&v).into_owned()),
                            n.map(|v| String::from_utf8_lossy(&v).into_owned())
                                .map_err(|e| e.to_string()),
                        )))
                    }
                }
                Ok(())
            })
        });
        if let Err(e) = result {
            panic!("the cores disagree: {e}");
        }
    }
    let (refused, read) = (outcomes[0].get(), outcomes[1].get());
    eprintln!(
        "go_differential: {} mutated records; both refused {refused}, both read the original {read}",
        refused + read
    );
    assert!(
        read > cases as usize / 10 && refused > cases as usize / 10,
        "too few cases on one side to compare: refused {refused}, read {read}"
    );
    go.shutdown();
}
