//! An exhaustive interleaving model of the completion doorbell (issue 16).
//!
//! The model has three kinds of threads, every step of which is one atomic action:
//!
//! - producers (core-host threads): claim the call's ticket, push a completion, then ring
//!   the way the protocol under test says (`Ring`);
//! - the JS thread: the host's dispatch loop for the thread-safe function (`Host`), which
//!   runs our `drain` (clear the flag, then pop until empty) from `call_js`;
//! - the watchdog: re-rings while its condition (`Rescue`) holds, then parks.
//!
//! [`explore`] walks every interleaving (depth first, each state once) to its end, where no
//! thread can move. Every completion must have run by then; a completion still queued there
//! is a lost wake-up, reported with the steps that led to it.
//!
//! The hosts are written from their sources: `Uv` is Node's (push under a mutex, then
//! `uv_async_send`, whose pending flag is cleared before the queue is read); `BunOld` is
//! `ThreadSafeFunction.onDispatch`/`scheduleDispatch` in Bun 1.2.19 and 1.3.14
//! (src/napi/napi.zig): the dispatch loop stores `idle` after finding the queue empty, over
//! a concurrent `scheduleDispatch` that saw `running` and so scheduled nothing; `BunFixed`
//! is Bun's later compare-and-swap `running -> idle` that loops again on failure (in Bun's
//! source since its Rust rewrite, src/runtime/napi/napi_body.rs).
//!
//! The model is sequentially consistent: it checks the protocols' logic, not the memory
//! orderings of the atomics that implement them.

use std::collections::HashSet;

#[derive(Clone, Copy, Debug)]
enum Ring {
    /// The ring-once design before 808c0fa: ring only when the flag was clear.
    Once,
    /// A deliberately broken control: ring once, but clear the flag after draining.
    OnceClearAfterDrain,
    /// Today's design: ring on every push.
    EveryPush,
}

#[derive(Clone, Copy, Debug)]
enum Host {
    Uv,
    BunOld,
    BunFixed,
}

#[derive(Clone, Copy, Debug)]
enum Rescue {
    /// No watchdog re-ring.
    None,
    /// The watchdog as of 808c0fa: re-rings on its ticks while an unclaimed call is
    /// registered (and on the one tick after the last claim), then parks.
    WhileRegistered,
    /// Re-rings on its ticks while any promise is outstanding, then parks.
    WhileOutstanding,
}

#[derive(Clone, Copy, Debug)]
struct Model {
    ring: Ring,
    host: Host,
    rescue: Rescue,
    producers: usize,
    pushes_each: u8,
}

const MAX_PRODUCERS: usize = 3;
/// Watchdog ticks while other threads can still move (more only add equivalent orders);
/// once nothing else can move, it keeps ticking for as long as its condition holds.
const MID_RUN_TICKS: u8 = 2;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Pc {
    Claim,
    Push,
    Decide,
    Call,
    Done,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Js {
    /// In the event loop, no dispatch running.
    Idle,
    SetRunning,
    DispatchOne,
    DrainClear,
    DrainPop,
    /// Only for `Ring::OnceClearAfterDrain`.
    DrainClearLate,
    AfterCall,
    Finish,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Dispatch {
    Idle,
    Running,
    Pending,
}

#[derive(Clone, PartialEq, Eq, Hash, Debug)]
struct State {
    // Producers.
    pc: [Pc; MAX_PRODUCERS],
    left: [u8; MAX_PRODUCERS],
    unclaimed: u8,
    // The link.
    queue: u8,
    ring_pending: bool,
    outstanding: u8,
    // The host's thread-safe function.
    host_calls: u8,
    dispatch: Dispatch,
    task: bool,
    js: Js,
    // The watchdog.
    parked: bool,
    ticks: u8,
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Producer(usize),
    Js,
    Watchdog,
}

/// What [`explore`] found: the states visited, and the first lost wake-up (as the steps
/// that lead to it), if any.
struct Outcome {
    states: usize,
    lost: Option<Vec<String>>,
}

impl Model {
    fn initial(&self) -> State {
        let mut pc = [Pc::Done; MAX_PRODUCERS];
        let mut left = [0; MAX_PRODUCERS];
        pc[..self.producers].fill(Pc::Claim);
        left[..self.producers].fill(self.pushes_each);
        let calls = self.producers as u8 * self.pushes_each;
        State {
            pc,
            left,
            unclaimed: calls,
            queue: 0,
            ring_pending: false,
            outstanding: calls,
            host_calls: 0,
            dispatch: Dispatch::Idle,
            task: false,
            js: Js::Idle,
            parked: matches!(self.rescue, Rescue::None),
            ticks: 0,
        }
    }

    /// `napi_call_threadsafe_function` (one atomic step: the host holds its queue lock).
    fn host_call(&self, s: &mut State) {
        s.host_calls += 1;
        match self.host {
            Host::Uv => s.task = true,
            Host::BunOld | Host::BunFixed => {
                if std::mem::replace(&mut s.dispatch, Dispatch::Pending) == Dispatch::Idle {
                    s.task = true;
                }
            }
        }
    }

    fn producer_can_move(&self, s: &State) -> bool {
        (0..self.producers).any(|p| s.pc[p] != Pc::Done)
    }

    fn js_can_move(&self, s: &State) -> bool {
        s.js != Js::Idle || s.task
    }

    fn watchdog_can_move(&self, s: &State) -> bool {
        !s.parked
            && (s.ticks < MID_RUN_TICKS || !(self.producer_can_move(s) || self.js_can_move(s)))
    }

    fn steps(&self, s: &State) -> Vec<Step> {
        let mut v: Vec<Step> = (0..self.producers)
            .filter(|&p| s.pc[p] != Pc::Done)
            .map(Step::Producer)
            .collect();
        if self.js_can_move(s) {
            v.push(Step::Js);
        }
        if self.watchdog_can_move(s) {
            v.push(Step::Watchdog);
        }
        v
    }

    fn apply(&self, s: &mut State, step: Step) -> String {
        match step {
            Step::Producer(p) => self.producer(s, p),
            Step::Js => self.js(s),
            Step::Watchdog => self.watchdog(s),
        }
    }

    fn producer(&self, s: &mut State, p: usize) -> String {
        let what = match s.pc[p] {
            Pc::Claim => {
                s.unclaimed -= 1;
                s.pc[p] = Pc::Push;
                "claims its ticket"
            }
            Pc::Push => {
                s.queue += 1;
                s.pc[p] = Pc::Decide;
                "pushes a completion"
            }
            Pc::Decide => match self.ring {
                Ring::Once | Ring::OnceClearAfterDrain => {
                    if std::mem::replace(&mut s.ring_pending, true) {
                        s.pc[p] = self.next_push(s, p);
                        "finds a ring pending: no ring"
                    } else {
                        s.pc[p] = Pc::Call;
                        "sets ring_pending"
                    }
                }
                Ring::EveryPush => {
                    s.pc[p] = Pc::Call;
                    "will ring"
                }
            },
            Pc::Call => {
                self.host_call(s);
                s.pc[p] = self.next_push(s, p);
                "rings (napi_call_threadsafe_function)"
            }
            Pc::Done => unreachable!("a finished producer has no step"),
        };
        format!("producer {p} {what}")
    }

    fn next_push(&self, s: &mut State, p: usize) -> Pc {
        s.left[p] -= 1;
        if s.left[p] > 0 {
            Pc::Claim
        } else {
            Pc::Done
        }
    }

    fn js(&self, s: &mut State) -> String {
        let bun = !matches!(self.host, Host::Uv);
        let what = match s.js {
            Js::Idle => {
                s.task = false;
                s.js = if bun { Js::SetRunning } else { Js::DispatchOne };
                "JS runs the dispatch task"
            }
            Js::SetRunning => {
                s.dispatch = Dispatch::Running;
                s.js = Js::DispatchOne;
                "JS: dispatch_state = running"
            }
            Js::DispatchOne => {
                if s.host_calls > 0 {
                    s.host_calls -= 1;
                    s.js = Js::DrainClear;
                    "JS takes a call and enters call_js"
                } else {
                    s.js = if bun { Js::Finish } else { Js::Idle };
                    "JS finds the host's queue empty"
                }
            }
            Js::DrainClear => {
                s.js = Js::DrainPop;
                if matches!(self.ring, Ring::OnceClearAfterDrain) {
                    "drain starts (ring_pending stays set until it ends)"
                } else {
                    s.ring_pending = false;
                    "drain clears ring_pending"
                }
            }
            Js::DrainPop => {
                if s.queue > 0 {
                    s.queue -= 1;
                    s.outstanding -= 1;
                    "drain runs a completion"
                } else if matches!(self.ring, Ring::OnceClearAfterDrain) {
                    s.js = Js::DrainClearLate;
                    "drain finds the queue empty"
                } else {
                    s.js = Js::AfterCall;
                    "drain finds the queue empty and returns"
                }
            }
            Js::DrainClearLate => {
                s.ring_pending = false;
                s.js = Js::AfterCall;
                "drain clears ring_pending and returns"
            }
            Js::AfterCall => {
                if bun {
                    s.dispatch = Dispatch::Pending;
                    s.js = Js::SetRunning;
                    "JS: dispatch_state = pending"
                } else {
                    s.js = Js::DispatchOne;
                    "JS looks for the next call"
                }
            }
            Js::Finish => match self.host {
                Host::BunOld => {
                    s.dispatch = Dispatch::Idle;
                    s.js = Js::Idle;
                    "JS: dispatch_state = idle (a plain store)"
                }
                Host::BunFixed => {
                    if s.dispatch == Dispatch::Running {
                        s.dispatch = Dispatch::Idle;
                        s.js = Js::Idle;
                        "JS: dispatch_state running -> idle"
                    } else {
                        s.js = Js::SetRunning;
                        "JS: dispatch_state was set to pending: loops again"
                    }
                }
                Host::Uv => unreachable!("uv has no finish step"),
            },
        };
        what.to_string()
    }

    fn watchdog(&self, s: &mut State) -> String {
        s.ticks = s.ticks.saturating_add(1).min(MID_RUN_TICKS);
        let rang = s.queue > 0;
        if rang {
            self.host_call(s);
        }
        let park = match self.rescue {
            Rescue::None => true,
            Rescue::WhileRegistered => s.unclaimed == 0,
            Rescue::WhileOutstanding => s.outstanding == 0,
        };
        s.parked = park;
        format!(
            "watchdog ticks{}{}",
            if rang { ", re-rings" } else { "" },
            if park { ", parks" } else { "" }
        )
    }
}

/// Walks every interleaving of `model` to its end.
fn explore(model: Model) -> Outcome {
    assert!(model.producers <= MAX_PRODUCERS);
    let mut seen = HashSet::new();
    let mut trace = Vec::new();
    let mut lost = None;
    dfs(&model, model.initial(), &mut seen, &mut trace, &mut lost);
    Outcome {
        states: seen.len(),
        lost,
    }
}

fn dfs(
    model: &Model,
    s: State,
    seen: &mut HashSet<State>,
    trace: &mut Vec<String>,
    lost: &mut Option<Vec<String>>,
) {
    if lost.is_some() || !seen.insert(s.clone()) {
        return;
    }
    let steps = model.steps(&s);
    if steps.is_empty() {
        if s.queue > 0 {
            let mut t = trace.clone();
            t.push(format!(
                "end: {} completion(s) queued, ring_pending={}, {} call(s) held by the host, \
                 dispatch_state={:?}, no dispatch scheduled",
                s.queue, s.ring_pending, s.host_calls, s.dispatch
            ));
            *lost = Some(t);
        }
        return;
    }
    for step in steps {
        let mut next = s.clone();
        trace.push(model.apply(&mut next, step));
        dfs(model, next, seen, trace, lost);
        trace.pop();
    }
}

fn check(ring: Ring, host: Host, rescue: Rescue) -> Outcome {
    let mut states = 0;
    // Two and three producers, one and two pushes each.
    for (producers, pushes_each) in [(2, 1), (2, 2), (3, 1)] {
        let o = explore(Model {
            ring,
            host,
            rescue,
            producers,
            pushes_each,
        });
        states += o.states;
        if o.lost.is_some() {
            return Outcome { states, ..o };
        }
    }
    Outcome { states, lost: None }
}

fn assert_no_loss(ring: Ring, host: Host, rescue: Rescue) {
    let o = check(ring, host, rescue);
    assert!(
        o.states > 100,
        "the model explored only {} states",
        o.states
    );
    eprintln!(
        "{ring:?} on {host:?}, rescue {rescue:?}: {} states, no loss",
        o.states
    );
    if let Some(t) = o.lost {
        panic!(
            "{ring:?} on {host:?} with rescue {rescue:?} loses a wake-up:\n  {}",
            t.join("\n  ")
        );
    }
}

fn assert_loses(ring: Ring, host: Host, rescue: Rescue) -> Vec<String> {
    let o = check(ring, host, rescue);
    let t = o
        .lost
        .unwrap_or_else(|| panic!("{ring:?} on {host:?} with {rescue:?}: expected a lost wake-up"));
    // Shown with `cargo test -- --nocapture`: the interleaving that loses the wake-up.
    eprintln!(
        "{ring:?} on {host:?}, rescue {rescue:?}:\n  {}",
        t.join("\n  ")
    );
    t
}

#[test]
fn ring_once_is_correct_on_a_host_that_runs_every_call() {
    // The design before 808c0fa: no interleaving loses a wake-up on Node's doorbell or on
    // Bun's fixed dispatch loop. The flag protocol itself was not the bug.
    assert_no_loss(Ring::Once, Host::Uv, Rescue::None);
    assert_no_loss(Ring::Once, Host::BunFixed, Rescue::None);
}

#[test]
fn the_model_catches_a_lost_wake_up_in_our_own_flag_protocol() {
    // Control: the textbook lost wake-up (clear the flag after draining) is found even on a
    // correct host, so a bug of that shape in our code could not hide from this model.
    let t = assert_loses(Ring::OnceClearAfterDrain, Host::Uv, Rescue::None);
    assert!(
        t.iter().any(|l| l.contains("finds a ring pending")),
        "{t:#?}"
    );
}

#[test]
fn ring_once_stalls_on_bun_1_3s_dispatch_loop() {
    // The stall of bench/tsfn-stall.cjs: a ring made while the JS thread ends a dispatch
    // round stays in Bun's queue, and ring_pending stays set, so nothing rings again.
    let t = assert_loses(Ring::Once, Host::BunOld, Rescue::None);
    let end = t.last().expect("a trace");
    assert!(end.contains("ring_pending=true"), "{t:#?}");
    assert!(end.contains("1 call(s) held by the host"), "{t:#?}");
}

#[test]
fn ringing_on_every_push_still_strands_the_last_ring_on_bun_1_3() {
    // Ringing on every push lets the next ring flush a stranded one, but the last ring of a
    // burst has no next ring.
    assert_loses(Ring::EveryPush, Host::BunOld, Rescue::None);
}

#[test]
fn a_watchdog_that_parks_after_the_last_claim_can_miss_the_last_ring() {
    // The re-ring of 808c0fa ran only while a call was registered: the tick after the last
    // claim can come before that call's ring is stranded, and then the watchdog parks.
    assert_loses(Ring::EveryPush, Host::BunOld, Rescue::WhileRegistered);
}

#[test]
fn ring_every_push_and_re_ring_while_outstanding_lose_nothing_on_any_host() {
    for host in [Host::Uv, Host::BunOld, Host::BunFixed] {
        assert_no_loss(Ring::EveryPush, host, Rescue::WhileOutstanding);
    }
    assert_no_loss(Ring::EveryPush, Host::Uv, Rescue::None);
    assert_no_loss(Ring::EveryPush, Host::BunFixed, Rescue::None);
}
