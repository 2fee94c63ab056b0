//! The observer sees cache hits, misses and stale entries, metastore timings and key
//! lifecycle events in the order the key lifecycle produces them, and nothing when it says
//! it does not want to listen.

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use asherah_native::{
    Asherah, CacheKind, CacheOutcome, Clock, Config, KeyEvent, MetastoreOp, Observer, ObserverSlot,
};

#[derive(Default)]
struct Recorder {
    off: AtomicBool,
    events: Mutex<Vec<String>>,
}

impl Observer for Recorder {
    fn wants(&self) -> bool {
        !self.off.load(Ordering::Relaxed)
    }
    fn cache(&self, cache: CacheKind, outcome: CacheOutcome) {
        self.events
            .lock()
            .unwrap()
            .push(format!("{}:{outcome:?}", cache.name()));
    }
    fn metastore(&self, op: MetastoreOp, _took: Duration) {
        self.events.lock().unwrap().push(format!("{op:?}"));
    }
    fn key(&self, e: KeyEvent) {
        let kind = if e.system { "sk" } else { "ik" };
        self.events
            .lock()
            .unwrap()
            .push(format!("{kind}:{:?}", e.what));
    }
}

impl Recorder {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }
}

fn setup() -> (Asherah, Arc<Recorder>, Arc<AtomicI64>) {
    let rec = Arc::new(Recorder::default());
    let now = Arc::new(AtomicI64::new(1_700_000_000));
    let mut c = Config::new("svc", "prod");
    c.clock = Clock::Manual(now.clone());
    c.check_interval = Duration::from_secs(600);
    c.observer = ObserverSlot::new(rec.clone());
    (Asherah::new(c).unwrap(), rec, now)
}

#[test]
fn first_encrypt_misses_and_creates_then_hits() {
    let (a, rec, _) = setup();
    let record = a.encrypt("p1", b"x").unwrap();
    let first = rec.take();
    for want in [
        "session:Miss",
        "sk:Miss",
        "sk:Created",
        "ik:Created",
        "Load",
        "Store",
    ] {
        assert!(first.iter().any(|e| e == want), "{want} in {first:?}");
    }
    assert!(
        first.iter().position(|e| e == "sk:Created") < first.iter().position(|e| e == "ik:Created")
    );
    a.encrypt("p1", b"y").unwrap();
    assert_eq!(rec.take(), vec!["session:Hit", "ik:Hit"]);
    a.decrypt("p1", record.as_bytes()).unwrap();
    assert_eq!(rec.take(), vec!["session:Hit", "ik:Hit"]);
}

#[test]
fn an_old_entry_is_stale_and_reloaded_from_the_metastore() {
    let (a, rec, now) = setup();
    a.encrypt("p1", b"x").unwrap();
    rec.take();
    now.fetch_add(601, Ordering::Relaxed);
    a.encrypt("p1", b"y").unwrap();
    let events = rec.take();
    assert_eq!(&events[..2], ["session:Hit", "ik:Stale"], "{events:?}");
    assert!(events.iter().any(|e| e == "Load"), "{events:?}");
    assert!(events.iter().any(|e| e == "ik:Loaded"), "{events:?}");
    assert!(!events.iter().any(|e| e.ends_with("Created")), "{events:?}");
}

#[test]
fn expired_keys_are_rotated() {
    let (a, rec, now) = setup();
    a.encrypt("p1", b"x").unwrap();
    rec.take();
    now.fetch_add(91 * 24 * 3600, Ordering::Relaxed);
    a.encrypt("p1", b"y").unwrap();
    let events = rec.take();
    assert!(events.iter().any(|e| e == "sk:Rotated"), "{events:?}");
    assert!(events.iter().any(|e| e == "ik:Rotated"), "{events:?}");
}

#[test]
fn an_observer_that_does_not_listen_hears_nothing() {
    let (a, rec, _) = setup();
    rec.off.store(true, Ordering::Relaxed);
    let record = a.encrypt("p1", b"x").unwrap();
    a.decrypt("p1", record.as_bytes()).unwrap();
    assert!(rec.take().is_empty());
}
