//! Key lifecycle with a manual clock (expiry and rotation, CheckInterval re-checks,
//! revocation, session cache on/off and its bounds), threads racing to create the same keys,
//! and property-based round trips over random payloads and partitions.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use asherah_native::{
    Asherah, Clock, Config, EnvelopeKeyRecord, Error, MemoryMetastore, Metastore,
};
use proptest::prelude::*;

const T0: i64 = 1_800_000_000; // minute-aligned

fn ik_created(record: &str) -> i64 {
    let v: serde_json::Value = serde_json::from_str(record).unwrap();
    v["Key"]["ParentKeyMeta"]["Created"].as_i64().unwrap()
}

/// A metastore wrapper that counts loads and can report every record as revoked.
#[derive(Default)]
struct Probe {
    inner: MemoryMetastore,
    loads: AtomicUsize,
    revoke_all: AtomicBool,
}

impl Probe {
    fn mark(&self, r: Option<EnvelopeKeyRecord>) -> Option<EnvelopeKeyRecord> {
        self.loads.fetch_add(1, Ordering::Relaxed);
        r.map(|mut r| {
            r.revoked |= self.revoke_all.load(Ordering::Relaxed);
            r
        })
    }
}

impl Metastore for Probe {
    fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error> {
        Ok(self.mark(self.inner.load(id, created)?))
    }
    fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
        Ok(self.mark(self.inner.load_latest(id)?))
    }
    fn store(&self, id: &str, created: i64, record: &EnvelopeKeyRecord) -> Result<bool, Error> {
        self.inner.store(id, created, record)
    }
}

fn setup(ms: Arc<dyn Metastore>, clock: &Arc<AtomicI64>, f: impl FnOnce(&mut Config)) -> Asherah {
    let mut c = Config::new("svc", "prod");
    c.clock = Clock::Manual(Arc::clone(clock));
    c.expire_after = Duration::from_secs(3600);
    c.check_interval = Duration::from_secs(600);
    f(&mut c);
    Asherah::with_metastore(c, ms).unwrap()
}

#[test]
fn expired_keys_rotate_on_next_encrypt_and_old_records_still_decrypt() {
    let clock = Arc::new(AtomicI64::new(T0 + 5));
    let ms = Arc::new(MemoryMetastore::new());
    let a = setup(ms.clone(), &clock, |_| {});
    let r1 = a.encrypt("p", b"one").unwrap();
    assert_eq!(ik_created(&r1), T0);
    clock.store(T0 + 3599, Ordering::Relaxed);
    assert_eq!(
        ik_created(&a.encrypt("p", b"x").unwrap()),
        T0,
        "not expired yet"
    );
    clock.store(T0 + 3601 + 30, Ordering::Relaxed);
    let r2 = a.encrypt("p", b"two").unwrap();
    assert_eq!(ik_created(&r2), T0 + 3600, "rotated, minute-truncated");
    assert_eq!(a.decrypt("p", r1.as_bytes()).unwrap(), b"one");
    assert_eq!(a.decrypt("p", r2.as_bytes()).unwrap(), b"two");
    let ids = ms.ids();
    let count = |p: &str| ids.iter().filter(|(id, _)| id == p).count();
    assert_eq!(
        (count("_SK_svc_prod"), count("_IK_p_svc_prod")),
        (2, 2),
        "{ids:?}"
    );
    // A fresh instance (cold caches) reads both generations.
    let b = setup(ms, &clock, |_| {});
    assert_eq!(b.decrypt("p", r1.as_bytes()).unwrap(), b"one");
    assert_eq!(b.decrypt("p", r2.as_bytes()).unwrap(), b"two");
}

#[test]
fn check_interval_rereads_the_metastore_and_sees_revocation() {
    let clock = Arc::new(AtomicI64::new(T0));
    let probe = Arc::new(Probe::default());
    let a = setup(probe.clone(), &clock, |_| {});
    let r1 = a.encrypt("p", b"one").unwrap();
    let warm = probe.loads.load(Ordering::Relaxed);
    for _ in 0..10 {
        a.encrypt("p", b"cached").unwrap();
        a.decrypt("p", r1.as_bytes()).unwrap();
    }
    assert_eq!(
        probe.loads.load(Ordering::Relaxed),
        warm,
        "warm session cache: no metastore reads"
    );
    probe.revoke_all.store(true, Ordering::Relaxed);
    clock.store(T0 + 599, Ordering::Relaxed);
    assert_eq!(
        ik_created(&a.encrypt("p", b"x").unwrap()),
        T0,
        "revocation not seen before CheckInterval"
    );
    clock.store(T0 + 660, Ordering::Relaxed);
    let r2 = a.encrypt("p", b"two").unwrap();
    assert_eq!(
        ik_created(&r2),
        T0 + 660,
        "revoked IK replaced after the re-check"
    );
    assert_eq!(
        a.decrypt("p", r1.as_bytes()).unwrap(),
        b"one",
        "revoked keys still decrypt"
    );
}

#[test]
fn session_cache_off_reads_the_metastore_every_call() {
    let clock = Arc::new(AtomicI64::new(T0));
    let probe = Arc::new(Probe::default());
    let a = setup(probe.clone(), &clock, |c| c.session_cache = false);
    let r = a.encrypt("p", b"one").unwrap();
    let before = probe.loads.load(Ordering::Relaxed);
    a.encrypt("p", b"two").unwrap();
    a.decrypt("p", r.as_bytes()).unwrap();
    assert!(probe.loads.load(Ordering::Relaxed) >= before + 2);
}

#[test]
fn session_cache_is_bounded_and_expires() {
    let clock = Arc::new(AtomicI64::new(T0));
    let probe = Arc::new(Probe::default());
    let a = setup(probe.clone(), &clock, |c| {
        c.session_cache_max_size = 2;
        c.session_cache_duration = Duration::from_secs(100);
    });
    let recs: Vec<_> = (0..5)
        .map(|i| (format!("p{i}"), a.encrypt(&format!("p{i}"), b"v").unwrap()))
        .collect();
    for (p, r) in &recs {
        assert_eq!(a.decrypt(p, r.as_bytes()).unwrap(), b"v");
    }
    let loads = probe.loads.load(Ordering::Relaxed);
    a.decrypt("p4", recs[4].1.as_bytes()).unwrap();
    assert_eq!(
        probe.loads.load(Ordering::Relaxed),
        loads,
        "most recent partition still cached"
    );
    clock.store(T0 + 100, Ordering::Relaxed);
    a.decrypt("p4", recs[4].1.as_bytes()).unwrap();
    assert!(
        probe.loads.load(Ordering::Relaxed) > loads,
        "session expired after its duration"
    );
}

#[test]
fn threads_and_instances_racing_create_one_key_each() {
    let clock = Arc::new(AtomicI64::new(T0 + 1));
    let ms = Arc::new(MemoryMetastore::new());
    let instances: Vec<_> = (0..4)
        .map(|_| Arc::new(setup(ms.clone(), &clock, |_| {})))
        .collect();
    let barrier = Arc::new(std::sync::Barrier::new(16));
    let handles: Vec<_> = (0..16)
        .map(|t| {
            let (a, barrier) = (Arc::clone(&instances[t % 4]), Arc::clone(&barrier));
            std::thread::spawn(move || {
                barrier.wait();
                (0..50)
                    .map(|i| a.encrypt("shared", format!("{t}-{i}").as_bytes()).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let records: Vec<_> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    assert_eq!(
        ms.ids(),
        vec![
            ("_IK_shared_svc_prod".into(), T0),
            ("_SK_svc_prod".into(), T0)
        ]
    );
    for (n, r) in records.iter().enumerate() {
        let pt = instances[n % 4].decrypt("shared", r.as_bytes()).unwrap();
        assert!(String::from_utf8(pt).unwrap().contains('-'));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn round_trips(partition in "\\PC{1,40}", data in proptest::collection::vec(any::<u8>(), 0..4096)) {
        thread_local!(static A: Asherah = Asherah::new(Config::new("svc", "prod")).unwrap());
        A.with(|a| {
            let record = a.encrypt(&partition, &data).unwrap();
            prop_assert_eq!(a.decrypt(&partition, record.as_bytes()).unwrap(), data);
            let v: serde_json::Value = serde_json::from_str(&record).unwrap();
            let expected = format!("_IK_{partition}_svc_prod");
            prop_assert_eq!(v["Key"]["ParentKeyMeta"]["KeyId"].as_str().unwrap(), expected.as_str());
            Ok(())
        })?;
    }

    /// `encrypt_record` says "ASCII" exactly when every byte is (the shim then makes a
    /// Latin-1 string without scanning: a wrong `true` would change the record's text).
    #[test]
    fn encrypt_record_knows_when_it_is_ascii(
        partition in prop_oneof!["[ -~]{1,30}", "\\PC{1,30}"],
        service in prop_oneof![Just("svc"), Just("sérvice"), Just("服务")],
        data in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let a = Asherah::new(Config::new(service, "prod")).unwrap();
        let r = a.encrypt_record(&partition, &data).unwrap();
        prop_assert_eq!(r.ascii, r.json.is_ascii());
        prop_assert_eq!(r.ascii, partition.is_ascii() && service.is_ascii());
        prop_assert_eq!(a.decrypt(&partition, r.json.as_bytes()).unwrap(), data);
    }
}

/// One region of a global table: a shared store whose key ids carry `region`.
struct Region {
    shared: Arc<MemoryMetastore>,
    region: Option<&'static str>,
}

impl Metastore for Region {
    fn load(&self, id: &str, created: i64) -> Result<Option<EnvelopeKeyRecord>, Error> {
        self.shared.load(id, created)
    }
    fn load_latest(&self, id: &str) -> Result<Option<EnvelopeKeyRecord>, Error> {
        self.shared.load_latest(id)
    }
    fn store(&self, id: &str, created: i64, record: &EnvelopeKeyRecord) -> Result<bool, Error> {
        self.shared.store(id, created, record)
    }
    fn region_suffix(&self) -> Option<&str> {
        self.region
    }
}

#[test]
fn suffixed_instances_read_other_regions_records_as_go_does() {
    let clock = Arc::new(AtomicI64::new(T0));
    let shared = Arc::new(MemoryMetastore::new());
    let region = |r| -> Arc<dyn Metastore> {
        Arc::new(Region {
            shared: Arc::clone(&shared),
            region: r,
        })
    };
    let west = setup(region(Some("us-west-2")), &clock, |_| {});
    let east = setup(region(Some("us-east-1")), &clock, |_| {});
    let plain = setup(region(None), &clock, |_| {});

    let w = west.encrypt("p", b"west").unwrap();
    let e = east.encrypt("p", b"east").unwrap();
    let u = plain.encrypt("p", b"plain").unwrap();
    assert!(w.contains("_IK_p_svc_prod_us-west-2"), "{w}");
    // Both regions' keys were created in the same minute: distinct keys, one `Created`.
    assert_eq!(ik_created(&w), ik_created(&e));
    for (reader, name) in [(&west, "west"), (&east, "east")] {
        for _ in 0..2 {
            // twice: the second read comes from the foreign-key cache
            assert_eq!(
                reader.decrypt("p", w.as_bytes()).unwrap(),
                b"west",
                "{name}"
            );
            assert_eq!(
                reader.decrypt("p", e.as_bytes()).unwrap(),
                b"east",
                "{name}"
            );
            assert_eq!(
                reader.decrypt("p", u.as_bytes()).unwrap(),
                b"plain",
                "{name}"
            );
        }
        // Another partition's record, even in another region, is still refused.
        assert!(reader.decrypt("q", w.as_bytes()).is_err());
        assert!(reader.decrypt("q", e.as_bytes()).is_err());
    }
    // An unsuffixed instance reads only unsuffixed records (Go's default partition).
    assert_eq!(plain.decrypt("p", u.as_bytes()).unwrap(), b"plain");
    assert!(plain.decrypt("p", w.as_bytes()).is_err());
    // A region's own keys are still what it encrypts with.
    assert!(west
        .encrypt("p", b"x")
        .unwrap()
        .contains("_IK_p_svc_prod_us-west-2"));

    // Ids that only share a prefix with the partition's are not its records: `p_svc_prodX`
    // is not a region suffix, and partition `p` does not take partition `p_x`'s records.
    let forged = w.replace("_IK_p_svc_prod_us-west-2", "_IK_p_svc_prodX");
    assert!(east.decrypt("p", forged.as_bytes()).is_err());
    let other = west.encrypt("p_x", b"other partition").unwrap();
    assert!(east.decrypt("p", other.as_bytes()).is_err());
    // Go would take this one (its id starts with `_IK_p_svc_prod`); the rest is no region.
    let prefixed = plain.encrypt("p_svc_prod_evil", b"not p's").unwrap();
    assert!(east.decrypt("p", prefixed.as_bytes()).is_err());
}
